"""The change log records exactly what changed, once: actions, before/after, names, actor,
message identity, patch number; and a move as one "moved" record."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.factories import FIRST_INODE, ROOT_INODE, FakeAgent, make_interface, make_inventory, remove, upsert
from webui.changelog.models import ChangeRecord
from webui.topology.models import Interface

pytestmark = pytest.mark.django_db


def test_it_records_a_moved_veth_end_as_one_moved_record(ingest, agent: FakeAgent, patches) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    old_key, new_key = f"if:{FIRST_INODE}:2", f"if:{FIRST_INODE + 1}:9"
    old = Interface.objects.get(key=old_key)
    moved = make_interface(FIRST_INODE + 1, 9, "eth0", mac=old.mac, peer=f"if:{ROOT_INODE}:100", peer_ifindex=100)
    outer = make_interface(ROOT_INODE, 100, "veth0", peer=new_key, peer_ifindex=9, master=f"if:{ROOT_INODE}:2")
    outer.mac = Interface.objects.get(key=f"if:{ROOT_INODE}:100").mac
    ingest(agent.delta([remove("interface", old_key), upsert(moved), upsert(outer)]))
    records = list(ChangeRecord.objects.filter(seq=agent.seq).order_by("position"))
    assert [(r.action, r.object_key) for r in records] == [("changed", outer.key), ("moved", new_key)]
    move = records[1]
    assert move.before["namespace"] == f"ns:{FIRST_INODE}" and move.after["namespace"] == f"ns:{FIRST_INODE + 1}"
    row = Interface.objects.get(key=new_key)
    assert row.id == old.id and row.first_seen == old.first_seen  # the same interface, moved
    assert row.peer.key == outer.key and row.peer.peer_id == row.id
    patch = patches[-1]
    assert patch["remove"]["interfaces"] == [f"h1/{old_key}"]
    assert {i["key"] for i in patch["upsert"]["interfaces"]} == {new_key, outer.key}


def test_it_numbers_records_by_message_and_patch(ingest, agent: FakeAgent, patches) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    ingest(agent.delta([remove("interface", f"if:{FIRST_INODE}:1")]))
    record = ChangeRecord.objects.get(seq=2)
    assert (record.run, record.position, record.graph_seq) == (agent.run, 0, patches[-1]["seq"])
    assert record.name == "lo" and record.actor == "agent:h1" and record.request_id is None
    assert record.object_id == f"h1/if:{FIRST_INODE}:1" and record.after is None
    assert record.before["name"] == "lo"


def test_it_cannot_store_a_message_twice(ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    record = ChangeRecord.objects.filter(seq=1).first()
    copy = ChangeRecord(**{f.attname: getattr(record, f.attname) for f in ChangeRecord._meta.fields if f.name != "id"})
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_it_refuses_to_rewrite_a_record(ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    record = ChangeRecord.objects.first()
    record.name = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        record.save()
