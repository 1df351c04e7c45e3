"""A task message of the wrong shape is rejected by the worker, not fatal to it."""

from __future__ import annotations

import pytest
from celery.exceptions import InvalidTaskError

from webui.topology import strategy


def test_it_turns_a_malformed_task_body_into_an_invalid_task(monkeypatch: pytest.MonkeyPatch) -> None:
    def default(task, app, consumer, **kwargs):
        def handle(message, body, ack, reject, callbacks, **kw):
            if body == "bad":
                _args, _kwargs, _embed = ["only one"]  # what Celery's Request does with a bad body
            return "handled"

        return handle

    monkeypatch.setattr(strategy, "default", default)
    handler = strategy.guarded(None, None, None)
    assert handler(None, "good", None, None, None) == "handled"
    with pytest.raises(InvalidTaskError, match="malformed task message"):
        handler(None, "bad", None, None, None)


def test_it_is_the_strategy_of_the_ingest_task() -> None:
    from webui.topology.tasks import ingest_task

    assert ingest_task.Strategy == "webui.topology.strategy:guarded"
