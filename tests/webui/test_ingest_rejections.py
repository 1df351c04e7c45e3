"""Forged, unsigned, malformed and misaddressed messages are rejected, logged with the node
and the reason, and write nothing."""

from __future__ import annotations

import json

import pytest

from agent import signing
from tests.factories import FakeAgent, make_inventory
from webui.changelog.models import ChangeRecord
from webui.topology.models import GraphVersion, Namespace, Node

pytestmark = pytest.mark.django_db


@pytest.fixture
def baseline(ingest, agent: FakeAgent):
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))

    def snapshot() -> tuple:
        node = Node.objects.get(name="h1")
        return (
            ChangeRecord.objects.count(),
            Namespace.objects.count(),
            GraphVersion.objects.get().seq,
            Node.objects.count(),
            (node.run, node.last_seq, node.last_heartbeat, node.state),
        )

    return snapshot


def _check(ingest, message, baseline, caplog, reason: str, node: str = "h1", **kw) -> None:
    before = baseline()
    result = ingest(message, **kw)
    assert result.status == "rejected", result
    assert reason in result.reason
    assert baseline() == before
    lines = [r.getMessage() for r in caplog.records if r.name == "nsmap.ingest"]
    assert any(f"ingest rejected node={node} reason=" in line and reason in line for line in lines), lines


def test_it_rejects_a_forged_signature(ingest, agent, baseline, caplog) -> None:
    body, _ = agent.heartbeat()
    _check(ingest, (body, signing.sign(body.encode(), "x" * 40)), baseline, caplog, "bad signature")


def test_it_rejects_a_body_changed_after_signing(ingest, agent, baseline, caplog) -> None:
    body, sig = agent.snapshot(make_inventory("h1", namespaces=5))
    _check(ingest, (body.replace('"ns1"', '"evil"'), sig), baseline, caplog, "bad signature")


def test_it_rejects_an_unsigned_message(ingest, agent, baseline, caplog) -> None:
    body, _ = agent.heartbeat()
    _check(ingest, (body, None), baseline, caplog, "unsigned")


def test_it_rejects_a_message_for_another_node(ingest, agent, baseline, caplog) -> None:
    Node.objects.create(name="h2", key="h2-key-" + "z" * 30)
    h2 = FakeAgent("h2", key="h2-key-" + "z" * 30)
    body, _ = h2.heartbeat()
    body = body.replace('"node":"h2"', '"node":"h1"')  # h2 speaks for h1 with its own key
    _check(ingest, (body, signing.sign(body.encode(), h2.key)), baseline, caplog, "bad signature")


def test_it_rejects_an_unknown_node(ingest, baseline, caplog) -> None:
    stranger = FakeAgent("h9", key="s" * 40)
    _check(ingest, stranger.heartbeat(), baseline, caplog, "unknown node", node="h9")


def test_it_rejects_malformed_json(ingest, baseline, caplog) -> None:
    _check(ingest, ('{"v": 1, "type": "delta", ', "00"), baseline, caplog, "malformed JSON", node="?")


def test_it_rejects_a_protocol_error(ingest, agent, baseline, caplog) -> None:
    body, _ = agent.delta([{"op": "explode", "kind": "interface", "key": "if:1:1"}])
    _check(ingest, (body, signing.sign(body.encode(), agent.key)), baseline, caplog, "protocol error")


def test_it_rejects_a_snapshot_with_an_interface_outside_its_namespaces(ingest, agent, baseline, caplog) -> None:
    inventory = make_inventory("h1", namespaces=1)
    inventory.namespaces.pop()
    _check(ingest, agent.snapshot(inventory), baseline, caplog, "inconsistent snapshot")


def test_it_rejects_a_wrong_protocol_version(ingest, agent, baseline, caplog) -> None:
    data = json.loads(agent.heartbeat()[0])
    data["v"] = 99
    body = json.dumps(data)
    _check(ingest, (body, signing.sign(body.encode(), agent.key)), baseline, caplog, "protocol version")


def test_it_rejects_the_local_agent_speaking_for_another_node(ingest, baseline, caplog, settings) -> None:
    other = FakeAgent("h1")
    assert settings.NODE_NAME != "h1"
    _check(ingest, other.heartbeat(), baseline, caplog, "other node", trusted=True)
