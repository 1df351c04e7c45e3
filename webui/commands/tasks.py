"""The agents' command results (protocol.COMMAND_RESULT_TASK on queue ingest): thin, JSON in."""

from __future__ import annotations

import logging

from celery import shared_task

from agent.protocol import COMMAND_RESULT_TASK
from webui.commands.service import ResultRejected, apply_result

log = logging.getLogger("nsmap.commands")


@shared_task(name=COMMAND_RESULT_TASK, ignore_result=True)
def command_result(body: str, signature: str | None) -> None:
    try:
        apply_result(body, signature)
    except ResultRejected as exc:
        log.warning("rejected a command result: %s", exc)
