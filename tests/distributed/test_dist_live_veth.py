"""Distributed mode end to end: a veth made with `ip` reaches a WebSocket client through
agent -> Redis -> Celery worker -> PostgreSQL -> channels-redis -> Daphne."""

from __future__ import annotations

import pytest

from tests.distributed.harness import ARRIVAL, Cluster, assert_lifecycle, settle
from tests.kernel_topology import Topology

pytestmark = [pytest.mark.distributed, pytest.mark.kernel]


def test_it_shows_a_new_veth_pair_on_a_websocket_client(cluster: Cluster, topo: Topology) -> None:
    live = cluster.live()
    a, b = topo.add_netns("a"), topo.add_netns("b")
    end_a, end_b = topo.name("x0"), topo.name("x1")
    topo.veth(end_a, a, end_b, b)

    def pair() -> tuple[dict, dict] | None:
        by_name = {i["name"]: i for i in live.host_interfaces(cluster.node).values()}
        if end_a in by_name and end_b in by_name and by_name[end_a].get("peer"):
            # a namespace the watcher met through a veth event is named by its /run/netns entry
            # a moment later (agent/inotify.py): wait for both names too
            named = all(live.namespaces.get(by_name[e]["namespace"], {}).get("names") for e in (end_a, end_b))
            return (by_name[end_a], by_name[end_b]) if named else None
        return None

    one, other = live.wait(pair, ARRIVAL, f"veth pair {end_a}/{end_b} with its peer on the WebSocket")
    assert one["peer"] == other["id"], f"{end_a}'s peer is {one['peer']}, expected {other['id']}"
    assert live.namespaces[one["namespace"]]["names"] == [a.name]
    assert live.namespaces[other["namespace"]]["names"] == [b.name]
    assert live.gaps == 0, "patches arrived with gaps"

    topo.delete(a, end_a)  # deletes both ends
    live.wait(
        lambda: not live.has_interface(cluster.node, end_a) and not live.has_interface(cluster.node, end_b),
        ARRIVAL,
        f"{end_a}/{end_b} removed on the WebSocket",
    )
    records = settle(cluster, topo.netns)
    for record in (one, other):
        assert_lifecycle(records, record["key"], record["name"], removed=True)
