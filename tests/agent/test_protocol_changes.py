"""The protocol's pure helpers on changes and inventories: a delta's changes come in an order
that never references a namespace before it exists or after it is gone, one change per record;
an inventory reads back what it wrote, with its defaults."""

from __future__ import annotations

from agent.protocol import (
    PROTOCOL_VERSION,
    Interface,
    Inventory,
    Namespace,
    Process,
    canonical_order,
    diff_inventories,
    interface_label,
    make_message,
    removal,
    upsert,
)
from tests.factories import make_inventory


def change(op: str, kind: str, key: str) -> dict:
    return {"op": op, "kind": kind, "key": key, "data": None}


def test_it_orders_namespace_upserts_then_interfaces_then_interface_and_namespace_removals() -> None:
    changes = [
        change("remove", "namespace", "ns:1"),
        change("remove", "interface", "if:1:1"),
        change("upsert", "interface", "if:2:1"),
        change("upsert", "namespace", "ns:2"),
    ]
    ordered = [(c["op"], c["kind"]) for c in canonical_order(changes)]
    assert ordered == [
        ("upsert", "namespace"),
        ("upsert", "interface"),
        ("remove", "interface"),
        ("remove", "namespace"),
    ], "a namespace would be referenced before it exists or after it is gone"


def test_it_keeps_only_the_last_change_of_a_record() -> None:
    changes = [change("upsert", "interface", "if:1:1"), change("remove", "interface", "if:1:1")]
    assert canonical_order(changes) == [changes[1]]
    again = [*changes, change("upsert", "interface", "if:1:1")]
    assert canonical_order(again) == [again[2]]


def test_it_orders_records_of_one_rank_by_their_last_change() -> None:
    first, second, first_again = (
        change("upsert", "interface", "if:1:1"),
        change("upsert", "interface", "if:1:2"),
        change("upsert", "interface", "if:1:1"),
    )
    assert canonical_order([first, second, first_again]) == [second, first_again]


def test_it_diffs_two_inventories_into_the_changes_between_them() -> None:
    old, new = make_inventory("h1", namespaces=2), make_inventory("h1", namespaces=1)
    new.interfaces[0].alias = "renamed"
    changes = diff_inventories(old, new)
    assert {(c["op"], c["kind"]) for c in changes} == {
        ("upsert", "interface"),
        ("remove", "interface"),
        ("remove", "namespace"),
    }
    upsert = next(c for c in changes if c["op"] == "upsert")
    assert upsert["key"] == new.interfaces[0].key and upsert["data"]["alias"] == "renamed"
    assert all(c["data"] is None for c in changes if c["op"] == "remove")
    gone = {r.key for r in old.namespaces + old.interfaces} - {r.key for r in new.namespaces + new.interfaces}
    assert {c["key"] for c in changes if c["op"] == "remove"} == gone, "a removal does not name what it removes"
    assert diff_inventories(new, new) == []
    grown = diff_inventories(new, make_inventory("h1", namespaces=2))
    assert ("upsert", "namespace") in {(c["op"], c["kind"]) for c in grown}


def test_it_reads_back_an_inventory_with_its_defaults() -> None:
    inventory = make_inventory("h1", namespaces=1)
    inventory.complete = False
    inventory.errors = ["pid 1: denied"]
    data = inventory.to_json()
    assert Inventory.from_json(data) == inventory
    del data["complete"], data["errors"]
    read = Inventory.from_json(data)
    assert read.complete is True, "an inventory that does not say otherwise is complete"
    assert read.errors == []
    assert Inventory(node="h1").complete is True


def test_it_names_records_as_people_do() -> None:
    assert interface_label("eth0", 117) == "eth0@if117"
    assert interface_label("eth0", None) == "eth0"
    root = Namespace("ns:1", 1, 4, "root", names=["x"])
    assert root.label == "root"
    assert Namespace("ns:2", 2, 4, "named", names=["blue", "b"]).label == "blue"
    assert Namespace("ns:3", 3, 4, "process", container_id="ab" * 32).label == "ab" * 6
    assert Namespace("ns:4", 4, 4, "process", pids=[Process(4711, "nginx")]).label == "pid 4711 (nginx)"
    assert Namespace("ns:5", 5, 4, "process").label == "ns:5"


def test_it_builds_the_change_of_either_kind_of_record() -> None:
    ns = Namespace("ns:1", 1, 4, "root")
    interface = Interface("if:1:1", "ns:1", 1, "lo", "loopback")
    stored = upsert(ns)
    assert (stored["op"], stored["kind"], stored["key"]) == ("upsert", "namespace", "ns:1")
    assert stored["data"]["kind"] == "root" and "ifindex" not in stored["data"]
    assert upsert(interface)["kind"] == "interface" and upsert(interface)["data"]["ifindex"] == 1
    assert removal("interface", "if:1:1") == {"op": "remove", "kind": "interface", "key": "if:1:1", "data": None}


def test_it_builds_a_message_envelope() -> None:
    message = make_message("heartbeat", "h1", "run-1", 7, 12.5, extra=1)
    envelope = {"v": PROTOCOL_VERSION, "type": "heartbeat", "node": "h1", "run": "run-1", "seq": 7, "time": 12.5}
    assert message == {**envelope, "extra": 1}
