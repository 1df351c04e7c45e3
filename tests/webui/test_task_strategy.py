"""A task message of the wrong shape is rejected by the worker, not fatal to it.

Checked through Celery itself: a real worker consumer (the WorkController's, not started) builds
its strategies from the tasks as Celery resolves them and handles messages received from the
in-memory broker, so a strategy Celery does not pick up (a misnamed option, a task built without
it) makes these tests fail. tests/distributed/test_dist_bad_payloads.py does the same against a
real worker on Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import task_rejected
from kombu import Connection, Consumer, Queue

from agent.inbox import DRAIN_TASK, INGEST_TASK
from webui.celery import app

MALFORMED = {"not": "a task body"}  # a well-formed envelope whose body is not [args, kwargs, embed]


@pytest.fixture
def worker() -> Iterator[Any]:
    """A worker's consumer with the strategies Celery resolved for every task (never started)."""
    controller = app.WorkController(
        pool_cls="solo", concurrency=1, hostname=f"strategy-{uuid.uuid4().hex[:8]}@test", without_mingle=True
    )
    consumer = controller.consumer
    try:
        consumer.update_strategies()
        yield consumer
    finally:
        for task in app.tasks.values():  # update_strategies gave each task a worker tracer
            task.__dict__.pop("__trace__", None)


def deliver(consumer: Any, task: str, bodies: list[Any]) -> tuple[list[Any], list[Exception], int]:
    """Publish ``bodies`` as ``task`` messages on a queue of their own and let the consumer's task
    handler receive them one by one. Returns the messages Celery rejected, the exceptions that
    escaped the handler (in a real worker the first one ends it) and how many messages are left."""
    rejected: list[Any] = []
    escaped: list[Exception] = []

    def on_rejected(message: Any = None, **_kw: Any) -> None:
        rejected.append(message)

    queue = Queue(f"strategy-{uuid.uuid4().hex[:8]}")
    task_rejected.connect(on_rejected, weak=False)
    try:
        with Connection(app.conf.broker_url) as conn:
            producer = conn.Producer()
            for n, body in enumerate(bodies):
                producer.publish(
                    body,
                    routing_key=queue.name,
                    declare=[queue],
                    serializer="json",
                    headers={"task": task, "id": str(n)},
                )
            with Consumer(conn, queues=[queue], on_message=consumer.create_task_handler(), accept=["json"]):
                for _ in bodies:
                    try:
                        conn.drain_events(timeout=2)
                    except Exception as exc:
                        escaped.append(exc)
            left = conn.default_channel.queue_declare(queue.name, passive=True).message_count
    finally:
        task_rejected.disconnect(on_rejected)
    return rejected, escaped, left


@pytest.mark.parametrize("task", [INGEST_TASK, DRAIN_TASK])
def test_it_rejects_malformed_task_messages_and_keeps_consuming(
    worker: Any, task: str, caplog: pytest.LogCaptureFixture
) -> None:
    rejected, escaped, left = deliver(worker, task, [MALFORMED, "bad"])
    assert not escaped, f"a malformed {task} message escaped the handler (it ends the worker): {escaped!r}"
    assert len(rejected) == 2, f"Celery rejected {len(rejected)} of 2 malformed {task} messages"
    assert all(m.acknowledged for m in rejected) and left == 0, "a malformed message would come back"
    logged = [r for r in caplog.records if r.name == "nsmap.ingest" and "malformed task message" in r.getMessage()]
    assert len(logged) == 2, "each malformed message is logged as an ingest rejection"


def test_it_is_what_stands_between_a_malformed_message_and_the_worker(
    worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same message under Celery's default strategy escapes the handler, which ends a worker:
    the first test fails if the tasks' strategy is not the one Celery uses."""
    # the worker's own task object: the shared_task proxy follows whichever Celery app is current
    monkeypatch.setattr(worker.app.tasks[INGEST_TASK], "Strategy", "celery.worker.strategy:default")
    worker.update_strategies()
    rejected, escaped, _left = deliver(worker, INGEST_TASK, [MALFORMED])
    assert escaped and not rejected, "Celery's default strategy now survives malformed messages by itself"
