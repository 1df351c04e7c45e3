"""A snapshot creates the node's namespaces and interfaces with their relations, and a repeat
of it changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import ROOT_INODE, FakeAgent, make_inventory
from webui.changelog.models import ChangeRecord
from webui.topology.models import GraphVersion, Interface, Namespace, Node

pytestmark = pytest.mark.django_db


def test_it_stores_a_snapshot_with_peers_and_masters(ingest, agent: FakeAgent, patches) -> None:
    result = ingest(agent.snapshot(make_inventory("h1", namespaces=3)))
    assert result.status == "applied", result
    node = Node.objects.get(name="h1")
    assert (node.run, node.last_seq, node.synced, node.state) == (agent.run, 1, True, "online")
    assert Namespace.objects.filter(node=node).count() == 4
    assert Interface.objects.filter(node=node).count() == 2 + 3 * 3
    eth0 = Interface.objects.get(node=node, key="if:4026532000:2")
    assert eth0.peer is not None and eth0.peer.key == f"if:{ROOT_INODE}:100"
    assert eth0.peer.peer_id == eth0.id
    assert eth0.peer.master is not None and eth0.peer.master.name == "br0"
    assert eth0.namespace.label == "ns0"
    assert eth0.addresses[0]["address"] == "10.0.0.2"
    assert GraphVersion.objects.get().seq == result.graph_seq == patches[0]["seq"]


def test_it_logs_every_object_as_added_once(ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    records = ChangeRecord.objects.filter(node="h1")
    kinds = sorted((r.object_kind, r.action) for r in records)
    assert kinds.count(("namespace", "added")) == 3
    assert kinds.count(("interface", "added")) == 2 + 2 * 3
    assert kinds.count(("host", "added")) == 1
    veth = records.get(object_id=f"h1/if:{ROOT_INODE}:100")
    assert veth.name == "veth0@if2" and veth.actor == "agent:h1" and veth.before is None
    assert veth.after["peer"] == "if:4026532000:2" and (veth.run, veth.seq) == (agent.run, 1)


def test_it_changes_nothing_when_a_snapshot_repeats_the_state(ingest, agent: FakeAgent, patches) -> None:
    inventory = make_inventory("h1", namespaces=3)
    ingest(agent.snapshot(inventory))
    before = ChangeRecord.objects.count()
    result = ingest(agent.snapshot(inventory))
    assert result.status == "unchanged" and result.changes == 0
    assert ChangeRecord.objects.count() == before
    assert len(patches) == 1  # no patch for a snapshot that changed nothing


def test_it_applies_a_later_snapshot_as_a_diff(ingest, agent: FakeAgent, patches) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=3)))
    smaller = make_inventory("h1", namespaces=2)
    smaller.interfaces[-2].mtu = 9000  # ns1's eth0
    result = ingest(agent.snapshot(smaller))
    assert result.status == "applied"
    log = ChangeRecord.objects.filter(seq=2)
    assert sorted((r.object_kind, r.action) for r in log) == [
        ("interface", "changed"),
        ("interface", "removed"),
        ("interface", "removed"),
        ("interface", "removed"),
        ("namespace", "removed"),
    ]
    changed = log.get(action="changed")
    assert (changed.before["mtu"], changed.after["mtu"]) == (1500, 9000)
    assert not Namespace.objects.filter(key="ns:4026532002").exists()
    patch = patches[-1]
    assert patch["remove"]["namespaces"] == ["h1/ns:4026532002"]
    assert f"h1/if:{ROOT_INODE}:102" in patch["remove"]["interfaces"]
    assert [i["mtu"] for i in patch["upsert"]["interfaces"]] == [9000]


def test_it_keeps_first_seen_of_unchanged_rows(ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    first = Interface.objects.get(key="if:4026532000:2")
    inventory = make_inventory("h1", namespaces=1)
    inventory.interfaces[-2].operstate = "DOWN"
    ingest(agent.snapshot(inventory))
    again = Interface.objects.get(key="if:4026532000:2")
    assert again.id == first.id and again.first_seen == first.first_seen and again.changed > first.changed


def test_it_stores_a_large_snapshot_through_the_bulk_path(ingest, agent: FakeAgent, api) -> None:
    inventory = make_inventory("h1", namespaces=40, neighbours=True)  # > 50 rows per table: COPY on PostgreSQL
    assert ingest(agent.snapshot(inventory)).status == "applied"
    assert Interface.objects.filter(node__name="h1").count() == len(inventory.interfaces) == 2 + 40 * 4
    eth0 = Interface.objects.get(key="if:4026532039:2")
    assert eth0.addresses == [
        {"family": 4, "address": "10.0.39.2", "prefixlen": 24, "scope": "global"},
        {"family": 6, "address": "fe80::28", "prefixlen": 64, "scope": "link"},
    ]
    assert eth0.peer.key == f"if:{ROOT_INODE}:139" and eth0.namespace.names == ["ns39"]
    record = ChangeRecord.objects.get(object_id="h1/if:4026532039:2")
    assert record.after["addresses"][1]["scope"] == "link" and record.before is None
    graph = api.get("/api/v1/topology/").json()
    assert len(graph["interfaces"]) == len(inventory.interfaces)
    assert ingest(agent.snapshot(inventory)).status == "unchanged"  # what was stored reads back equal
