"""Embedded mode: lab commands for the agent running in this process.

The server signs them with ``service.local_key`` and hands them over in-process; the agent
checks them exactly as a remote agent would (agent/lab.py) on a thread of its own, so the
request that sent one never waits for the kernel. Results come back in-process too, applied in
order on a thread of their own, so the agent never waits for the database either.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agent.actions import Actions, Policy
from agent.lab import LabCommands
from agent.labwire import LAB_COMMAND_TASK
from webui.commands.service import local_key, take_result
from webui.live import embedded

log = logging.getLogger("nsmap.commands")


# One thread, so results are applied in the order they were reported (running before done); the
# agent's thread hands them over and acts at once instead of waiting for the database write.
_results = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nsmap-lab-results")


def apply_report(body: str, signature: str | None) -> None:
    try:
        take_result(body, signature)
    except Exception:  # the next result must still be applied (a pool's future would hide this)
        log.exception("could not apply a local command result")


def report(body: str, signature: str | None) -> None:
    _results.submit(apply_report, body, signature)


def local_lab(node: str) -> LabCommands:
    """The local agent's lab commands; ValueError when NSMAP_AGENT_ALLOW_FOREIGN is nonsense."""
    return LabCommands(node, local_key(node), Actions(node, Policy.from_env()), report=report)


def serve_local_lab(runner: Any) -> None:
    """Register ``runner.handle_lab_command`` behind one thread of its own (the request that sends
    a command never waits for the kernel)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nsmap-lab")

    def take(body: str, signature: str) -> None:
        pool.submit(runner.handle_lab_command, body, signature)

    embedded.register(LAB_COMMAND_TASK, take)
