"""The agent's transport in distributed mode: each message goes into the node's inbox, and a
`nsmap.drain` task wakes a worker only when no wake-up is pending and no drain is running; a
drain applies everything waiting and then lets the next message wake a worker again (a real,
private redis-server)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from agent.inbox import DRAIN_TASK, INBOX_KEY, KICK_KEY
from agent.publisher import CeleryTransport
from tests.distributed.harness import PrivateRedis, redis_client
from tests.factories import FIRST_INODE, FakeAgent, make_inventory, remove
from webui.topology import tasks
from webui.topology.models import Node

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_url(private_redis: PrivateRedis, settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    settings.REDIS_URL = private_redis.url
    monkeypatch.setattr(tasks, "_client", None)  # the worker's client, made for this Redis
    return private_redis.url


def wakeups(client: Any) -> list[list[Any]]:
    """The arguments of the drain tasks waiting on queue "ingest", oldest first."""
    out = []
    for raw in reversed(client.lrange("ingest", 0, -1)):
        envelope = json.loads(raw)
        assert envelope["headers"]["task"] == DRAIN_TASK
        out.append(json.loads(base64.b64decode(envelope["body"]))[0])
    return out


def test_it_wakes_a_worker_once_per_drain(redis_url: str, agent: FakeAgent) -> None:
    client = redis_client(redis_url)
    transport = CeleryTransport(redis_url)
    try:
        transport.send(*agent.snapshot(make_inventory("h1", namespaces=2)))
        transport.send(*agent.delta([remove("interface", f"if:{FIRST_INODE}:1")]))
        assert wakeups(client) == [["h1"]], "one wake-up for two messages"
        assert client.llen(INBOX_KEY.format(node="h1")) == 2

        assert tasks.drain("h1") == 2
        assert Node.objects.get(name="h1").last_seq == 2
        assert not client.exists(KICK_KEY.format(node="h1")) and not client.llen(INBOX_KEY.format(node="h1"))

        transport.send(*agent.heartbeat())
        assert wakeups(client) == [["h1"], ["h1"]], "after a drain, the next message wakes a worker again"
    finally:
        transport.close()


def test_it_pushes_a_message_once_when_its_wake_up_failed_and_is_retried(
    redis_url: str, agent: FakeAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis_client(redis_url)
    transport = CeleryTransport(redis_url)
    message = agent.snapshot(make_inventory("h1", namespaces=1))
    send_task = transport.app.send_task

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the broker went away between the push and the wake-up")

    try:
        monkeypatch.setattr(transport.app, "send_task", broken)
        with pytest.raises(ConnectionError):
            transport.send(*message)
        monkeypatch.setattr(transport.app, "send_task", send_task)
        transport.send(*message)  # the publisher retries the same message
        assert client.llen(INBOX_KEY.format(node="h1")) == 1, "pushed twice: the second copy would be a replay"
        assert wakeups(client) == [["h1"]]
    finally:
        transport.close()
