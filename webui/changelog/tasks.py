"""Celery tasks of the change log (routed to queue "ingest")."""

from __future__ import annotations

from celery import shared_task

from webui.changelog.timetravel import maintain


@shared_task(name="nsmap.history_maintain", ignore_result=True)
def history_maintain_task() -> dict[str, int]:
    """Periodic (celery beat): checkpoints that are due, then retention."""
    return maintain()
