"""Namespaces and veths that come and go during scans: a namespace that vanishes mid-scan is
simply absent, nothing raises, and what stays put keeps its exact peers."""

from __future__ import annotations

import threading

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology, TopologyError

pytestmark = pytest.mark.kernel

SCANS = 10


def test_it_keeps_scanning_while_namespaces_come_and_go(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    stop = threading.Event()
    churned = [0]

    def churn() -> None:
        n = 0
        while not stop.is_set():
            name = f"x{n % 4}"
            try:
                ns = topo.add_netns(name)
                topo.veth(topo.name(f"x{n % 4}"), topo.root, "eth0", ns)
                topo.ip(None, "netns", "del", ns.name)  # the root end goes with it
                churned[0] += 1
            except TopologyError:
                pass  # a name still being torn down: try the next one
            n += 1

    worker = threading.Thread(target=churn, daemon=True)
    worker.start()
    try:
        for _ in range(SCANS):
            view = scan()  # also checks the inventory's own consistency
            assert_pair(view, topo, a, "v0", b, "v1")
    finally:
        stop.set()
        worker.join(timeout=60)
    assert churned[0] > 0
