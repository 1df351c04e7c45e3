"""Deltas change exactly the rows they name; relations follow keys; patches carry what changed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.factories import FIRST_INODE, ROOT_INODE, FakeAgent, make_interface, make_inventory, make_namespace, remove
from tests.factories import upsert as up
from webui.changelog.models import ChangeRecord
from webui.topology.models import Interface, Namespace

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(ingest, agent: FakeAgent) -> FakeAgent:
    assert ingest(agent.snapshot(make_inventory("h1", namespaces=2))).status == "applied"
    return agent


def test_it_applies_an_upsert_and_logs_the_change(ingest, synced: FakeAgent, patches) -> None:
    eth0 = Interface.objects.get(key=f"if:{FIRST_INODE}:2")
    record = make_interface(FIRST_INODE, 2, "eth0", operstate="DOWN", up=False, peer=f"if:{ROOT_INODE}:100")
    record.peer_ifindex = 100
    result = ingest(synced.delta([up(record)]))
    assert result.status == "applied" and result.changes == 1
    eth0.refresh_from_db()
    assert (eth0.operstate, eth0.up) == ("DOWN", False)
    log = ChangeRecord.objects.get(seq=synced.seq)
    assert (log.action, log.before["operstate"], log.after["operstate"]) == ("changed", "UP", "DOWN")
    assert patches[-1]["upsert"]["interfaces"][0]["operstate"] == "DOWN"


def test_it_links_a_peer_that_arrives_in_a_later_delta(ingest, synced: FakeAgent, patches) -> None:
    inode = FIRST_INODE + 10
    a = make_interface(ROOT_INODE, 300, "vethA", peer=f"if:{inode}:2", peer_ifindex=2)
    ingest(synced.delta([up(a)]))
    stored = Interface.objects.get(key=a.key)
    assert stored.peer_key == f"if:{inode}:2" and stored.peer is None
    assert patches[-1]["upsert"]["interfaces"][0]["peer"] is None  # no edge to a missing element
    b = make_interface(inode, 2, "eth0", peer=a.key, peer_ifindex=300)
    ingest(synced.delta([up(make_namespace(inode)), up(b)]))
    stored.refresh_from_db()
    assert stored.peer is not None and stored.peer.key == b.key
    upserted = {i["key"]: i for i in patches[-1]["upsert"]["interfaces"]}
    assert upserted[a.key]["peer"] == f"h1/{b.key}"  # the waiting end is re-sent with its edge
    assert upserted[b.key]["peer"] == f"h1/{a.key}"


def test_it_removes_a_veth_and_unlinks_its_peer(ingest, synced: FakeAgent, patches) -> None:
    inner = f"if:{FIRST_INODE}:2"
    ingest(synced.delta([remove("interface", inner)]))
    assert not Interface.objects.filter(key=inner).exists()
    outer = Interface.objects.get(key=f"if:{ROOT_INODE}:100")
    assert outer.peer is None and outer.peer_key == inner  # the report still names it
    patch = patches[-1]
    assert patch["remove"]["interfaces"] == [f"h1/{inner}"]
    assert [i["key"] for i in patch["upsert"]["interfaces"]] == [outer.key]
    assert patch["upsert"]["interfaces"][0]["peer"] is None


def test_it_removes_a_namespace_with_its_interfaces(ingest, synced: FakeAgent) -> None:
    ns = f"ns:{FIRST_INODE + 1}"
    ingest(synced.delta([remove("namespace", ns)]))
    assert not Namespace.objects.filter(key=ns).exists()
    assert not Interface.objects.filter(namespace__key=ns).exists()
    actions = sorted((r.object_kind, r.action) for r in ChangeRecord.objects.filter(seq=synced.seq))
    assert actions == [("interface", "removed"), ("interface", "removed"), ("namespace", "removed")]


def test_it_treats_an_unchanged_upsert_as_no_change(ingest, synced: FakeAgent, patches) -> None:
    inventory = make_inventory("h1", namespaces=2)
    count = len(patches)
    result = ingest(synced.delta([up(replace(inventory.interfaces[3]))]))
    assert result.status == "unchanged" and len(patches) == count
    assert not ChangeRecord.objects.filter(seq=synced.seq).exists()


def test_it_asks_for_a_snapshot_when_a_delta_names_an_unknown_namespace(
    ingest, synced: FakeAgent, sent_commands
) -> None:
    orphan = make_interface(FIRST_INODE + 99, 2, "eth0")
    result = ingest(synced.delta([up(orphan)]))
    assert result.status == "resync"
    assert sent_commands and sent_commands[0][1]["command"] == "resync"
    assert not Interface.objects.filter(key=orphan.key).exists()
