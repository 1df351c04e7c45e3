"""A message from any earlier run of a node is refused, however many restarts ago it was made,
and so is a message whose time is further from the server's clock than NSMAP_MAX_CLOCK_SKEW:
a replayed message never takes over the node or locks its real agent out."""

from __future__ import annotations

import json
import time

import pytest

from agent import signing
from tests.factories import FakeAgent, make_inventory
from webui.topology.models import Node

pytestmark = pytest.mark.django_db


def at(agent: FakeAgent, message: tuple[str, str | None], when: float) -> tuple[str, str]:
    """``message`` with its time set to ``when``, signed again with the agent's key."""
    data = json.loads(message[0])
    data["time"] = when
    body = json.dumps(data)
    assert agent.key
    return body, signing.sign(body.encode(), agent.key)


def offset(when: str) -> float:
    """An absolute time ("1e12"), or one relative to now ("+3600")."""
    return time.time() + float(when) if when[0] in "+-" else float(when)


def test_it_refuses_every_earlier_run_across_100_restarts(ingest, agent, sent_commands) -> None:
    inventory = make_inventory("h1", namespaces=1)
    recorded: list[tuple[str, str | None]] = []
    for _ in range(100):
        agent.restart()
        snapshot, heartbeat = agent.snapshot(inventory), agent.heartbeat()
        assert ingest(snapshot).status in ("applied", "unchanged")
        assert ingest(heartbeat).status == "heartbeat"
        recorded += [snapshot, heartbeat]
    current = Node.objects.get(name="h1").run
    assert current == agent.run
    for message in recorded[:-2]:
        result = ingest(message)
        assert result.status == "rejected", f"a message of an earlier run was accepted: {result}"
        assert "earlier run" in result.reason
    assert Node.objects.get(name="h1").run == current, "a replayed run became the node's current run"
    assert ingest(agent.heartbeat()).status == "heartbeat", "the real agent is locked out after the replays"


def test_it_refuses_an_earlier_run_the_server_never_saw(ingest, agent, sent_commands) -> None:
    unseen = FakeAgent("h1", key=agent.key)
    old_snapshot = unseen.snapshot(make_inventory("h1", namespaces=1))  # made first, delivered last
    time.sleep(0.01)
    assert ingest(agent.snapshot(make_inventory("h1", namespaces=1))).status == "applied"
    result = ingest(old_snapshot)
    assert result.status == "rejected", result
    assert "earlier run" in result.reason
    assert Node.objects.get(name="h1").run == agent.run


@pytest.mark.parametrize("when", ["0", "1", "1e12", "+3600", "-3600"])
def test_it_refuses_a_message_time_far_from_the_server_clock(ingest, agent, sent_commands, when: str) -> None:
    assert ingest(agent.snapshot(make_inventory("h1", namespaces=1))).status == "applied"
    agent.restart()
    result = ingest(at(agent, agent.snapshot(make_inventory("h1", namespaces=2)), offset(when)))
    assert result.status == "rejected", result
    assert "from the server's clock" in result.reason
    assert Node.objects.get(name="h1").run != agent.run


def test_it_takes_the_allowed_skew_from_the_setting(ingest, agent, sent_commands, settings) -> None:
    settings.NSMAP_MAX_CLOCK_SKEW = 10
    snapshot = agent.snapshot(make_inventory("h1", namespaces=1))
    result = ingest(at(agent, snapshot, time.time() - 30))
    assert result.status == "rejected" and "NSMAP_MAX_CLOCK_SKEW=10" in result.reason, result
    assert ingest(at(agent, snapshot, time.time() - 5)).status == "applied"
