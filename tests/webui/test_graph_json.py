"""The graph JSON of docs/CONTRACTS.md: built from rows without queries, and the same through
the REST API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import FIRST_INODE, ROOT_INODE, FakeAgent, make_inventory
from webui.topology.graph import build_graph, build_patch, iso

NS_FIELDS = {
    "id",
    "host",
    "key",
    "kind",
    "label",
    "names",
    "pids",
    "container_id",
    "owner",
    "holder",
    "inode",
    "first_seen",
    "changed",
}
IF_FIELDS = {
    "id", "host", "namespace", "key", "ifindex", "name", "label", "kind", "mac", "mtu", "operstate", "up",
    "master", "addresses", "altnames", "alias", "peer_ifindex", "peer", "peer_status", "peer_note",
    "first_seen", "changed",
}  # fmt: skip

T = datetime(2026, 11, 29, 5, 14, 33, tzinfo=UTC)


def _if_row(**kw) -> dict:
    row = {
        "node__name": "h1", "key": "if:1:5", "namespace__key": "ns:1", "ifindex": 5, "name": "veth1",
        "kind": "veth", "mac": "02:00:00:00:00:01", "mtu": 1500, "operstate": "UP", "up": True,
        "master__key": None, "addresses": [{"family": 4, "address": "10.0.0.1", "prefixlen": 24, "scope": "global"}],
        "altnames": [], "alias": None, "peer_ifindex": 2, "peer__key": "if:2:2", "peer_status": "resolved",
        "peer_note": None, "first_seen": T, "changed": T,
    }  # fmt: skip
    row.update(kw)
    return row


def test_it_renders_an_interface_with_global_ids_and_the_seed_notation() -> None:
    graph = build_graph(7, [{"name": "h1", "state": "online", "last_heartbeat": T, "run": "r"}], [], [_if_row()])
    item = graph["interfaces"][0]
    assert set(item) == IF_FIELDS
    assert item["id"] == "h1/if:1:5" and item["namespace"] == "h1/ns:1" and item["peer"] == "h1/if:2:2"
    assert item["label"] == "veth1@if2" and item["addresses"] == ["10.0.0.1/24"]
    assert graph["hosts"] == [{"id": "h1", "name": "h1", "state": "online", "last_seen": iso(T), "run": "r"}]
    assert graph["seq"] == 7 and iso(T) == "2026-11-29T05:14:33.000Z"


def test_it_leaves_out_edges_to_interfaces_that_are_not_stored() -> None:
    item = build_graph(1, [], [], [_if_row(peer__key=None, peer_ifindex=None)])["interfaces"][0]
    assert item["peer"] is None and item["label"] == "veth1"


def test_it_builds_a_patch_with_sorted_removals() -> None:
    patch = build_patch(3, removed_interfaces=["h1/b", "h1/a"])
    assert patch == {
        "seq": 3,
        "upsert": {"hosts": [], "namespaces": [], "interfaces": []},
        "remove": {"namespaces": [], "interfaces": ["h1/a", "h1/b"]},
    }


@pytest.mark.django_db
def test_it_serves_the_contract_graph_over_rest(ingest, agent: FakeAgent, api) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    graph = api.get("/api/v1/topology/").json()
    assert [h["id"] for h in graph["hosts"]] == ["h1"]
    assert all(set(n) == NS_FIELDS for n in graph["namespaces"])
    assert all(set(i) == IF_FIELDS for i in graph["interfaces"])
    by_id = {i["id"]: i for i in graph["interfaces"]}
    eth0 = by_id[f"h1/if:{FIRST_INODE}:2"]
    assert eth0["peer"] == f"h1/if:{ROOT_INODE}:100" and by_id[eth0["peer"]]["peer"] == eth0["id"]
    assert by_id[eth0["peer"]]["master"] == f"h1/if:{ROOT_INODE}:2"
    root = next(n for n in graph["namespaces"] if n["kind"] == "root")
    assert root["label"] == "root" and root["pids"] == [{"pid": 1, "comm": "systemd"}]
