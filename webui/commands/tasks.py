"""Tasks on queue ingest: the agents' command results (labwire.COMMAND_RESULT_TASK) and the
expiry of unanswered commands. Thin, JSON in."""

from __future__ import annotations

from celery import shared_task

from agent.labwire import COMMAND_RESULT_TASK
from webui.commands.service import expire_unanswered, take_result


@shared_task(name=COMMAND_RESULT_TASK, ignore_result=True)
def command_result(body: str, signature: str | None) -> None:
    take_result(body, signature)


@shared_task(name="nsmap.expire_commands", ignore_result=True)
def expire_commands() -> int:
    """Celery beat, every minute (embedded: nsmap_serve's periodic thread)."""
    return expire_unanswered()
