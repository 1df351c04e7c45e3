"""Distributed mode's per-node inbox (a real, private redis-server): whoever holds the lock
applies everything waiting, in order; a missing predecessor is waited for briefly, then a
snapshot is asked for."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from agent.inbox import INBOX_KEY, LOCK_KEY
from tests.distributed.harness import PrivateRedis, redis_client
from tests.factories import FIRST_INODE, FakeAgent, make_inventory, remove
from webui.topology import tasks
from webui.topology.models import Interface, Node

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(private_redis: PrivateRedis) -> Any:
    """A client of the test's own redis-server (gone with it after the test)."""
    return redis_client(private_redis.url)


def _push(client, message: tuple[str, str | None]) -> None:
    body, signature = message
    client.rpush(INBOX_KEY.format(node="h1"), json.dumps([body, signature]))


def test_it_applies_everything_waiting_in_order(client, agent: FakeAgent) -> None:
    snapshot = agent.snapshot(make_inventory("h1", namespaces=3))
    deltas = [agent.delta([remove("interface", f"if:{FIRST_INODE + n}:1")]) for n in range(3)]
    for message in [deltas[2], snapshot, deltas[0], deltas[1]]:
        _push(client, message)
    assert tasks.drain("h1", client) == 4
    assert client.llen(INBOX_KEY.format(node="h1")) == 0 and not client.exists(LOCK_KEY.format(node="h1"))
    node = Node.objects.get(name="h1")
    assert node.last_seq == 4 and node.synced
    assert Interface.objects.filter(name="lo").count() == 1


def test_it_asks_for_a_snapshot_when_a_predecessor_never_comes(
    client, agent: FakeAgent, sent_commands, django_capture_on_commit_callbacks
) -> None:
    _push(client, agent.snapshot(make_inventory("h1", namespaces=2)))
    tasks.drain("h1", client)
    agent.seq += 1  # lost
    _push(client, agent.delta([remove("interface", f"if:{FIRST_INODE}:1")]))
    start = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.drain("h1", client)
    assert time.monotonic() - start >= tasks.GAP_WAIT * 0.8  # it waited for the missing one
    assert [c["command"] for _, c in sent_commands] == ["resync"]
    assert client.llen(INBOX_KEY.format(node="h1")) == 0


def test_it_leaves_the_inbox_to_the_lock_holder(client, agent: FakeAgent) -> None:
    client.set(LOCK_KEY.format(node="h1"), "someone-else", px=5000)
    _push(client, agent.snapshot(make_inventory("h1", namespaces=1)))
    assert tasks.drain("h1", client) == 0
    assert Node.objects.get(name="h1").last_seq == 0
    assert client.llen(INBOX_KEY.format(node="h1")) == 1


def test_it_routes_by_the_claimed_node_only_when_it_is_a_name() -> None:
    assert tasks.node_of('{"node": "h1"}') == "h1"
    assert tasks.node_of('{"node": "../x y"}') is None
    assert tasks.node_of("not json") is None and tasks.node_of(None) is None


def test_it_takes_malformed_items_out_and_applies_the_rest(
    client, agent: FakeAgent, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = INBOX_KEY.format(node="h1")
    client.rpush(inbox, b"not json", json.dumps(["only a body"]), json.dumps([1, None]))
    _push(client, agent.snapshot(make_inventory("h1", namespaces=1)))
    assert tasks.drain("h1", client) == 4
    assert client.llen(inbox) == 0 and Node.objects.get(name="h1").last_seq == 1
    assert len([r for r in caplog.records if "malformed inbox item" in r.getMessage()]) == 3
