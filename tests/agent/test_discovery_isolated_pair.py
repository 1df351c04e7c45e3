"""Two namespaces linked only to each other: no link to the host, no id in root beforehand."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_pairs_namespaces_that_only_know_each_other(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("eth0", a, "eth0", b)  # same name and same ifindex (2) on both sides
    assert topo.link(a, "eth0")["ifindex"] == topo.link(b, "eth0")["ifindex"] == 2

    view = scan()

    assert_pair(view, topo, a, "eth0", b, "eth0")
    assert view.ns(a).nsid is not None and view.ns(b).nsid is not None
    assert view.ns(a).nsid != view.ns(b).nsid


def test_it_pairs_ends_in_the_same_namespace(topo: Topology, scan: Scan) -> None:
    a = topo.add_netns("a")
    topo.veth("x0", a, "x1", a)

    view = scan()

    assert_pair(view, topo, a, "x0", a, "x1")
