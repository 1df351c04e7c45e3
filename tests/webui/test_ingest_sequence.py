"""Replays, gaps and agent restarts: nothing applied twice, nothing applied out of step, and
the agent is asked for a snapshot whenever the server cannot follow."""

from __future__ import annotations

import pytest

from tests.factories import FIRST_INODE, FakeAgent, make_inventory, remove
from webui.changelog.models import ChangeRecord
from webui.topology.ingest import RESYNC_INTERVAL
from webui.topology.models import GraphVersion, Interface, Node

pytestmark = pytest.mark.django_db


def _state() -> tuple[int, int, int, tuple]:
    node = Node.objects.get(name="h1")
    return (
        ChangeRecord.objects.count(),
        Interface.objects.count(),
        GraphVersion.objects.get().seq,
        (node.run, node.last_seq, node.synced, node.last_heartbeat),
    )


def test_it_rejects_a_replayed_message_and_writes_nothing(ingest, agent: FakeAgent, caplog) -> None:
    snapshot = agent.snapshot(make_inventory("h1", namespaces=2))
    ingest(snapshot)
    delta = agent.delta([remove("interface", f"if:{FIRST_INODE}:1")])
    ingest(delta)
    before = _state()
    for message in (snapshot, delta):
        result = ingest(message)
        assert result.status == "rejected" and "replay" in result.reason
    assert _state() == before
    assert "ingest rejected node=h1 reason=stale seq 1 <= 2 (replay)" in caplog.text


def test_it_asks_for_a_snapshot_after_a_gap_and_applies_nothing_until_then(
    ingest, agent: FakeAgent, sent_commands
) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    agent.seq += 1  # message 2 is lost
    result = ingest(agent.delta([remove("interface", f"if:{FIRST_INODE}:1")]))
    assert result.status == "resync" and result.resync_requested
    assert [(n, c["command"]) for n, c in sent_commands] == [("h1", "resync")]
    assert Interface.objects.filter(key=f"if:{FIRST_INODE}:1").exists()
    # in step again but not synced: still not applied, and not asked again at once
    result = ingest(agent.delta([remove("interface", f"if:{FIRST_INODE + 1}:1")]))
    assert result.status == "waiting" and len(sent_commands) == 1
    assert Interface.objects.filter(key=f"if:{FIRST_INODE + 1}:1").exists()
    # the snapshot answers: applied, and deltas apply again
    assert ingest(agent.snapshot(make_inventory("h1", namespaces=1))).status == "applied"
    assert ingest(agent.delta([remove("interface", f"if:{FIRST_INODE}:1")])).status == "applied"
    assert Node.objects.get(name="h1").synced


def test_it_asks_again_when_the_snapshot_does_not_come(ingest, agent: FakeAgent, sent_commands) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    agent.seq += 1
    ingest(agent.heartbeat())
    Node.objects.filter(name="h1").update(resync_requested=Node.objects.get().resync_requested - RESYNC_INTERVAL)
    ingest(agent.heartbeat())
    assert len(sent_commands) == 2


def test_it_reports_a_gap_without_writing_when_the_delivery_can_be_retried(ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    before = _state()
    agent.seq += 1
    result = ingest(agent.heartbeat(), final=False)
    assert result.status == "gap"
    assert _state() == before


def test_it_asks_a_restarted_agent_for_a_snapshot_when_it_starts_with_a_delta(
    ingest, agent: FakeAgent, sent_commands
) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    old_run = agent.run
    agent.restart()
    agent.seq = 1  # its snapshot (seq 1) went missing
    result = ingest(agent.delta([remove("interface", f"if:{FIRST_INODE}:1")]))
    assert result.status == "resync" and sent_commands[-1][0] == "h1"
    node = Node.objects.get(name="h1")
    assert node.run == agent.run and not node.synced and old_run in node.retired_runs
    host = ChangeRecord.objects.filter(object_kind="host").latest("id")
    assert (host.before["run"], host.after["run"]) == (old_run, agent.run)


def test_it_applies_a_restarted_agents_snapshot_as_a_diff(ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    agent.restart()
    result = ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    assert result.status == "unchanged"
    assert not ChangeRecord.objects.filter(run=agent.run).exclude(object_kind="host").exists()


def test_it_rejects_a_late_message_of_an_earlier_run(ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    late = agent.heartbeat()
    agent.restart()
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    before = _state()
    result = ingest(late)
    assert result.status == "rejected" and "earlier run" in result.reason
    assert _state() == before
