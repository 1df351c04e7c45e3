"""Where the time of one live change goes, for bench/latency.py (NSMAP_TRACE=1; off by default).

A patch's way from the agent to a browser crosses three processes in distributed mode (agent ->
Celery worker -> Daphne). With tracing on, the worker logs one line per patch with the wall-clock
moments it passed (the agent's message time, the task's start, the ingest transaction's start,
the commit, the group_send's end) and Daphne logs when its consumer got the patch and when it
had written it to the socket. All processes run on one host in the benchmark, so their wall
clocks agree; the benchmark joins the lines by patch number. Off, every call is one attribute
test.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from django.conf import settings

log = logging.getLogger("nsmap.trace")
PREFIX = "trace "

_local = threading.local()


def enabled() -> bool:
    return bool(getattr(settings, "NSMAP_TRACE", False))


def begin(**marks: float) -> None:
    """A new unit of work in this thread (a task, an in-process ingest): forget earlier marks."""
    if enabled():
        _local.marks = dict(marks)


def mark(name: str) -> None:
    """Note that this thread passed the moment ``name`` now."""
    if enabled():
        marks = getattr(_local, "marks", None)
        if marks is None:
            marks = _local.marks = {}
        marks[name] = time.time()


def marks(**extra: float) -> dict[str, float] | None:
    """This thread's marks so far and ``extra`` (a copy), or None when tracing is off."""
    if not enabled():
        return None
    return {**(getattr(_local, "marks", None) or {}), **extra}


def emit(kind: str, seq: int, fields: dict[str, Any]) -> None:
    """One trace line: ``trace KIND seq=N {json}``."""
    if enabled():
        log.info("%s%s seq=%d %s", PREFIX, kind, seq, json.dumps(fields, separators=(",", ":")))


def parse(line: str) -> tuple[str, int, dict[str, Any]] | None:
    """(kind, seq, fields) of a trace line in a log, else None."""
    at = line.find(PREFIX)
    if at < 0:
        return None
    try:
        kind, seq, fields = line[at + len(PREFIX) :].split(" ", 2)
        return kind, int(seq.removeprefix("seq=")), json.loads(fields)
    except ValueError:
        return None
