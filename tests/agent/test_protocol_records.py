"""The wire form of a record carries every field of it, and reads back to the same record."""

import json
from dataclasses import asdict

import pytest

from agent.protocol import (
    Address,
    Interface,
    Inventory,
    Namespace,
    Owner,
    Process,
    ProtocolError,
    interface_from_json,
    interface_to_json,
    namespace_from_json,
    namespace_to_json,
)


def full_namespace() -> Namespace:
    return Namespace(
        key="ns:4026532000",
        inode=4026532000,
        dev=4,
        kind="process",
        names=["blue", "docker/abc"],
        pids=[Process(pid=4711, comm="nginx")],
        container_id="ab" * 32,
        nsid=7,
        owner=Owner(runtime="docker", name="web-1", id="ab" * 32, containers=("web-1",), project="shop"),
        holder="/tmp/held/net",
    )


def full_interface() -> Interface:
    return Interface(
        key="if:4026532000:2",
        namespace="ns:4026532000",
        ifindex=2,
        name="eth0",
        kind="veth",
        mac="02:00:00:00:00:01",
        mtu=1500,
        operstate="UP",
        up=True,
        master="if:4026532000:3",
        addresses=[Address(family=6, address="fd00::1", prefixlen=64, scope="global")],
        altnames=["enp0s1"],
        alias="uplink",
        peer_ifindex=17,
        peer="if:4026531840:17",
        peer_status="resolved",
        peer_note=None,
    )


def test_it_serialises_every_field_of_a_namespace() -> None:
    record = full_namespace()
    as_json = json.loads(json.dumps(asdict(record)))  # the owner's tuples as JSON lists
    assert namespace_to_json(record) == as_json, "namespace_to_json lost or renamed a field"


def test_it_serialises_every_field_of_an_interface() -> None:
    record = full_interface()
    assert interface_to_json(record) == asdict(record), "interface_to_json lost or renamed a field"


def test_it_reads_an_inventory_back_from_its_json() -> None:
    inventory = Inventory(node="h1", namespaces=[full_namespace()], interfaces=[full_interface()], errors=["x"])
    assert Inventory.from_json(inventory.to_json()) == inventory


def test_it_reads_a_record_that_leaves_its_lists_out() -> None:
    assert interface_from_json(
        {"key": "if:1:1", "namespace": "ns:1", "ifindex": 1, "name": "lo", "kind": "loopback"}
    ) == (Interface("if:1:1", "ns:1", 1, "lo", "loopback"))
    assert namespace_from_json({"key": "ns:1", "inode": 1, "dev": 4, "kind": "root"}) == Namespace("ns:1", 1, 4, "root")


def test_it_names_what_an_inventory_lacks() -> None:
    with pytest.raises(ProtocolError) as refused:
        Inventory.from_json({"v": Inventory(node="h1").to_json()["v"], "node": "h1", "interfaces": []})
    assert str(refused.value) == "malformed inventory: KeyError('namespaces')"


def test_it_refuses_to_read_a_holder_with_control_characters() -> None:
    record = namespace_to_json(full_namespace())
    record["holder"] = "/tmp/a\x01b"
    with pytest.raises(ProtocolError) as refused:
        namespace_from_json(record)
    assert str(refused.value) == "holder '/tmp/a\\x01b' is not allowed"
