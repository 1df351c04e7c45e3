"""The Celery task `nsmap.ingest`: late acknowledgement, queue "ingest", gaps retried first."""

from __future__ import annotations

import pytest

from tests.factories import FakeAgent, make_inventory
from webui.celery import app
from webui.topology.models import Node
from webui.topology.tasks import GAP_RETRIES, ingest_task, is_final

pytestmark = pytest.mark.django_db


def test_it_is_registered_with_late_acks_on_the_ingest_queue() -> None:
    task = app.tasks["nsmap.ingest"]
    assert task.acks_late and task.reject_on_worker_lost
    assert app.conf.task_routes["nsmap.ingest"] == {"queue": "ingest"}
    assert app.conf.worker_prefetch_multiplier == 1
    assert "nsmap.mark_stale" in app.tasks


def test_it_ingests_eagerly_in_embedded_mode(agent: FakeAgent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_task.apply(args=list(agent.snapshot(make_inventory("h1", 1))))
    assert result.get() == "applied" and Node.objects.get(name="h1").synced


def test_it_retries_a_gap_a_few_times_before_deciding() -> None:
    assert [is_final(False, n) for n in range(GAP_RETRIES + 1)] == [False] * GAP_RETRIES + [True]
    assert is_final(True, 0)  # eager (embedded): nothing to wait for
