"""A worker that fell behind applies a node's waiting messages together: in seq order,
consecutive deltas merged into one patch, replays still refused, a gap left for later."""

from __future__ import annotations

import random

import pytest

from tests.factories import FIRST_INODE, FakeAgent, make_inventory, remove
from webui.changelog.models import ChangeRecord
from webui.topology.ingest import ingest_batch
from webui.topology.models import Interface, Node

pytestmark = pytest.mark.django_db


def test_it_merges_consecutive_deltas_into_one_patch(
    ingest, agent: FakeAgent, patches, django_capture_on_commit_callbacks
) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=4)))
    messages = [agent.delta([remove("interface", f"if:{FIRST_INODE + n}:1")]) for n in range(4)]
    messages.insert(2, agent.heartbeat())
    shuffled = messages[:]
    random.Random(7).shuffle(shuffled)
    count = len(patches)
    with django_capture_on_commit_callbacks(execute=True):
        results, leftover = ingest_batch(shuffled)
    assert leftover == [] and {r.status for r in results} == {"applied"}
    assert len(patches) == count + 1  # one patch for the five messages
    assert len(patches[-1]["remove"]["interfaces"]) == 4
    node = Node.objects.get(name="h1")
    assert node.last_seq == agent.seq and node.synced
    records = ChangeRecord.objects.filter(run=agent.run, seq=agent.seq)
    assert sorted(r.position for r in records) == [0, 1, 2, 3]


def test_it_refuses_replays_inside_a_batch(ingest, agent: FakeAgent) -> None:
    snapshot = agent.snapshot(make_inventory("h1", namespaces=2))
    ingest(snapshot)
    delta = agent.delta([remove("interface", f"if:{FIRST_INODE}:1")])
    results, _ = ingest_batch([delta, snapshot, delta])
    assert [r.status for r in results] == ["applied", "rejected", "rejected"]
    assert ChangeRecord.objects.filter(seq=agent.seq).count() == 1
    assert not Interface.objects.filter(key=f"if:{FIRST_INODE}:1").exists()


def test_it_leaves_a_gap_for_later_unless_final(ingest, agent: FakeAgent, sent_commands) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=3)))
    first = agent.delta([remove("interface", f"if:{FIRST_INODE}:1")])
    second = agent.delta([remove("interface", f"if:{FIRST_INODE + 1}:1")])
    third = agent.delta([remove("interface", f"if:{FIRST_INODE + 2}:1")])
    results, leftover = ingest_batch([first, third], final=False)
    assert results[0].status == "applied" and results[1].status == "gap" and leftover == [1]
    results, leftover = ingest_batch([third, second], final=False)
    assert leftover == [] and [r.status for r in results] == ["applied", "applied"]
    assert not sent_commands and Interface.objects.filter(name="lo").count() == 1  # root's lo only
