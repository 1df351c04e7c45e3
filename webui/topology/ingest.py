"""The ingest service: one agent message in, the observed state and the change log updated in one
transaction, a numbered patch broadcast after commit.

This module admits and sequences messages (parse, authenticate, run and seq checks, grouping,
the result); webui/topology/apply.py writes what a group changes, webui/topology/bulk.py holds the
bulk SQL, webui/changelog/writer.py the change records, webui/topology/liveness.py staleness.

Rules (docs/CONTRACTS.md):
- A message is checked before anything is written: JSON, every field (agent.protocol), a known
  node, its HMAC (unless ``trusted``: the embedded in-process agent), its time within
  NSMAP_MAX_CLOCK_SKEW, not from an earlier run, not replayed (seq <= last seq of the same run).
  A rejection is logged on ``nsmap.ingest`` at WARNING as ``ingest rejected node=X reason=...``
  and writes nothing. A message that fails with a database error is set aside as a dead letter
  (webui/topology/deadletters.py) and the node asks for a snapshot; the rest of its batch stands.
- A snapshot is applied as a diff against the stored rows, so the change log gets only real
  changes; a delta is applied to the rows it touches. Both in one transaction.
- A gap (seq != last + 1) or a new run that does not start with a snapshot is not applied: the
  server asks that agent for a snapshot (after commit) and ignores deltas until it arrives.
  With ``final=False`` (a Celery delivery that can be retried) a gap is reported as
  ``status="gap"`` without writing, because the missing message may just be late in another worker.
- Every accepted message counts as a heartbeat. Patches are numbered by GraphVersion, locked and
  incremented inside the transaction, so numbers have no gaps across workers.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from agent import signing
from agent.protocol import ProtocolError, validate_message
from webui.live import trace
from webui.topology import agents, apply, deadletters, diff
from webui.topology.models import Node, NodeState

log = logging.getLogger("nsmap.ingest")

Status = Literal["applied", "unchanged", "heartbeat", "waiting", "resync", "gap", "rejected"]
RESYNC_INTERVAL = timedelta(seconds=5)  # ask again for a snapshot at most this often
RETIRED_RUNS_KEPT = 20

NODE_FIELDS = (
    "run",
    "last_seq",
    "synced",
    "retired_runs",
    "resync_requested",
    "last_heartbeat",
    "last_message_time",
    "state",
    "complete",
    "errors",
    "changed",
)


@dataclass(slots=True)
class Result:
    """What happened to a message (the Celery task logs it; tests assert on it)."""

    status: Status
    reason: str = ""
    node: str | None = None
    graph_seq: int | None = None
    changes: int = 0
    resync_requested: bool = False


class Rejected(Exception):
    def __init__(self, reason: str, node: str | None = None) -> None:
        super().__init__(reason)
        self.node = node


def ingest(body: str | bytes, signature: str | None, *, trusted: bool = False, final: bool = True) -> Result:
    """Apply one agent message; never raises for a bad message (it is rejected and logged)."""
    results, _leftover = ingest_batch([(body, signature)], trusted=trusted, final=final)
    return results[0]


def ingest_batch(
    items: list[tuple[str | bytes, str | None]], *, trusted: bool = False, final: bool = True
) -> tuple[list[Result], list[int]]:
    """Apply several messages in one transaction per node, in sequence order.

    Consecutive in-step deltas and heartbeats of one run are merged into one delta: one plan,
    one patch, change records numbered with the last message's seq. This is how a worker
    catches up with a flood (webui.topology.tasks drains a node's inbox in batches). Returns a
    result per item and the indexes of items not applied because a gap may still fill
    (``final=False``; their result says "gap"); the caller offers those again later.
    """
    results: list[Result | None] = [None] * len(items)
    by_node: dict[str, list[_Message]] = {}
    for index, (body, signature) in enumerate(items):
        try:
            raw, data = _parse(body)
        except Rejected as exc:
            results[index] = _reject(str(exc), exc.node)
            continue
        by_node.setdefault(data["node"], []).append(_Message(index, raw, data, signature))
    leftover: list[int] = []
    for name, messages in by_node.items():
        leftover += _ingest_node(name, messages, results, trusted=trusted, final=final)
    return [r if r is not None else Result("rejected", "not processed") for r in results], leftover


@dataclass(slots=True)
class _Message:
    index: int
    raw: bytes
    data: dict[str, Any]
    signature: str | None

    @property
    def run(self) -> str:
        return self.data["run"]

    @property
    def seq(self) -> int:
        return self.data["seq"]

    @property
    def type(self) -> str:
        return self.data["type"]


def _reject(reason: str, node: str | None) -> Result:
    log.warning("ingest rejected node=%s reason=%s", _printable(node), _printable(reason, 300))
    return Result("rejected", reason, node)


def _ingest_node(
    name: str, messages: list[_Message], results: list[Result | None], *, trusted: bool, final: bool
) -> list[int]:
    def reject_all(reason: str) -> list[int]:
        for m in messages:
            results[m.index] = _reject(reason, name)
        return []

    if trusted and name != settings.NODE_NAME:
        return reject_all(f"other node: the local agent speaks for {settings.NODE_NAME!r}, not {name!r}")
    now = timezone.now()
    leftover: list[int] = []
    trace.mark("tx")
    with transaction.atomic():
        node = _lock_node(name, create=trusted)
        trace.mark("locked")
        if node is None:
            return reject_all("unknown node (register it with `manage.py nsmap_node add NAME`)")
        accepted: list[_Message] = []
        for m in messages:
            try:
                if not trusted:
                    _authenticate(node, m)
                accepted.append(m)
            except Rejected as exc:
                results[m.index] = _reject(str(exc), name)
        runs: dict[str, int] = {}
        for m in accepted:
            runs.setdefault(m.run, len(runs))
        accepted.sort(key=lambda m: (runs[m.run], m.seq))
        i = 0
        while i < len(accepted):
            m = accepted[i]
            refusal = _refuse_replay(node, m, now)
            if refusal:
                results[m.index] = _reject(refusal, name)
                i += 1
                continue
            if m.run == node.run and m.seq <= node.last_seq:
                results[m.index] = _reject(f"stale seq {m.seq} <= {node.last_seq} (replay)", name)
                i += 1
                continue
            follows = m.run == node.run and m.seq == node.last_seq + 1
            in_step = follows and node.synced
            if m.type != "snapshot" and not final and not follows:
                reason = f"seq {m.seq} after {node.last_seq} of run {node.run or '-'}"
                for rest in accepted[i:]:
                    results[rest.index] = Result("gap", reason, name)
                    leftover.append(rest.index)
                break
            j = i + 1
            if in_step and m.type != "snapshot":
                while (
                    j < len(accepted)
                    and accepted[j].run == m.run
                    and accepted[j].seq == accepted[j - 1].seq + 1
                    and accepted[j].type != "snapshot"
                ):
                    j += 1
            group = accepted[i:j]
            result = _apply_or_set_aside(node, group, now, in_step=in_step)
            for g in group:
                results[g.index] = result
            i = j
        trace.mark("written")
    return leftover


def _refuse_replay(node: Node, m: _Message, now: datetime) -> str:
    """Why a message can only be a replay (else ""): its time is too far from the server's clock
    (NSMAP_MAX_CLOCK_SKEW), or it belongs to a run other than the current one and was made before
    the current run's latest message (an agent's runs follow each other, so any earlier run,
    however many restarts ago, is refused), or its run was retired."""
    sent = float(m.data["time"])
    skew, allowed = sent - now.timestamp(), settings.NSMAP_MAX_CLOCK_SKEW
    if abs(skew) > allowed:
        return f"message time is {skew:+.0f} s from the server's clock (NSMAP_MAX_CLOCK_SKEW={allowed:g})"
    if m.run != node.run and (m.run in node.retired_runs or sent < (node.last_message_time or 0.0)):
        return f"message from an earlier run {m.run} (seq {m.seq})"
    return ""


def _apply_or_set_aside(node: Node, group: list[_Message], now: datetime, *, in_step: bool) -> Result:
    """_apply_group in a savepoint: a rejection or a database error undoes only this group (its
    writes and after-commit callbacks). A group that fails with a database error is set aside as a
    dead letter with the reason, and the node moves past it and asks for a snapshot, so the
    messages after it flow. A lost connection (OperationalError, InterfaceError) is raised: the
    caller retries the whole batch."""
    try:
        with transaction.atomic():
            return _apply_group(node, group, now, in_step=in_step)
    except Rejected as exc:
        node.refresh_from_db()
        return _reject(str(exc), node.name)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        reason = f"not applied: {type(exc).__name__}: {exc}"
        log.exception("ingest set aside node=%s seq=%d..%d", node.name, group[0].seq, group[-1].seq)
    node.refresh_from_db()
    deadletters.set_aside(node, now, [(m.raw, m.data) for m in group], reason)
    _advance(node, group[-1], now)
    node.synced = False
    _ask_snapshot(node, now)
    node.save(update_fields=NODE_FIELDS)
    return Result("rejected", reason, node.name)


def _printable(text: str | None, limit: int = 63) -> str:
    """A log-safe rendering of text taken from an unverified message (no newlines, bounded)."""
    if text is None:
        return "?"
    if re.fullmatch(r"[A-Za-z0-9._-]{1,63}", text):
        return text
    return repr(text[:limit]) if len(text) > limit or not text.isprintable() else text


def _parse(body: str | bytes) -> tuple[bytes, dict[str, Any]]:
    if isinstance(body, bytes):
        raw = body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected("malformed: body is not UTF-8") from None
    elif isinstance(body, str):
        text = body
        raw = body.encode("utf-8", "surrogatepass")
    else:
        raise Rejected(f"malformed: body is {type(body).__name__}, not JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Rejected(f"malformed JSON: {exc}") from None
    node = data.get("node") if isinstance(data, dict) and isinstance(data.get("node"), str) else None
    try:
        validate_message(data)
    except (ProtocolError, TypeError, ValueError, AttributeError) as exc:
        raise Rejected(f"protocol error: {exc}", node) from None
    return raw, data


def _lock_node(name: str, *, create: bool) -> Node | None:
    node = Node.objects.select_for_update().filter(name=name).first()
    if node is None and create:
        Node.objects.get_or_create(name=name)
        node = Node.objects.select_for_update().get(name=name)
    return node


def _authenticate(node: Node, m: _Message) -> None:
    if not node.key:
        raise Rejected("node has no key")
    if not m.signature:
        raise Rejected("unsigned")
    if not signing.verify(m.raw, node.key, m.signature):
        raise Rejected("bad signature (not signed with this node's key)")


def _advance(node: Node, last: _Message, now: datetime) -> None:
    """The node has taken ``last`` (applied, or set aside): its run, sequence and clocks move on
    to it; a new run retires the one before (replays of it are refused from then on)."""
    if last.run != node.run:
        if node.run:
            node.retired_runs = [*node.retired_runs, node.run][-RETIRED_RUNS_KEPT:]
        node.run = last.run
        node.synced = False
    node.last_seq = last.seq
    node.last_heartbeat = now
    node.last_message_time = float(last.data["time"])


def _ask_snapshot(node: Node, now: datetime) -> bool:
    """Ask the node's agent for a snapshot after commit, at most once per RESYNC_INTERVAL;
    True when asked now."""
    if node.resync_requested is not None and now - node.resync_requested < RESYNC_INTERVAL:
        return False
    node.resync_requested = now
    name = node.name
    transaction.on_commit(lambda: agents.request_snapshot(name))
    return True


def _apply_group(node: Node, group: list[_Message], now: datetime, *, in_step: bool) -> Result:
    """Apply one message, or several consecutive in-step deltas/heartbeats merged into one.
    ``in_step``: the group's first message is the next of the node's run, and the node is synced."""
    began = time.time()
    first, last = group[0], group[-1]
    name, run = node.name, first.run
    if len(group) == 1:
        data, kind = first.data, first.type
    else:
        changes = [c for m in group if m.type == "delta" for c in m.data["changes"]]
        kind = "delta" if changes else "heartbeat"
        data = {**last.data, "type": kind, "changes": changes}
    effects = apply.Effects()
    host_before = apply.host_state(node)
    _advance(node, last, now)
    node.state = NodeState.ONLINE

    status: Status
    want_snapshot = False
    if kind == "snapshot":
        try:
            effects = apply.apply_snapshot(node, data, now)
        except diff.OutOfStep as exc:
            raise Rejected(f"protocol error: inconsistent snapshot: {exc}") from None
        node.synced = True
        node.complete = bool(data.get("complete", True))
        node.errors = [str(e) for e in data.get("errors", [])]
        status = "applied" if effects.plan else "unchanged"
    elif in_step and kind == "delta":
        try:
            effects = apply.apply_delta(node, data["changes"], now)  # out of step: before writing
            status = "applied" if effects.plan else "unchanged"
        except diff.OutOfStep as exc:
            log.warning("node %s out of step at seq %d: %s; asking for a snapshot", name, last.seq, exc)
            effects = apply.Effects()
            node.synced = False
            want_snapshot, status = True, "resync"
    elif in_step:
        status = "heartbeat"
    else:  # a gap, a new run that did not start with a snapshot, or still waiting for one
        node.synced = False
        want_snapshot, status = True, "resync"

    asked = want_snapshot and _ask_snapshot(node, now)
    if want_snapshot and not asked:
        status = "waiting"

    host_after = apply.host_state(node)
    if host_after != host_before:
        effects.host_changes.append((host_before, host_after))
    node.save(update_fields=NODE_FIELDS)

    graph_seq = apply.log_and_broadcast(
        node,
        effects,
        now,
        observed=float(data["time"]),
        run=data["run"],
        seq=data["seq"],
        made=max(float(m.data["time"]) for m in group),
        began=began,
        messages=len(group),
    )
    if status == "resync":
        log.info("node %s: %s seq %d of run %s not applied (asked for a snapshot)", name, kind, last.seq, run)
    return Result(status, "", name, graph_seq, len(effects.plan.changes), asked)
