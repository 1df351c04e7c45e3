"""A veth between two named namespaces: each end names the other by exact key."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_pairs_two_named_namespaces_both_ways(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    # each also has a link to the host, so that ifindex 2 exists on more than one side
    topo.veth("eth0", a, topo.name("ha"), topo.root)
    topo.veth("eth0", b, topo.name("hb"), topo.root)
    topo.up(a, "v0")
    topo.up(b, "v1")

    view = scan()

    assert_pair(view, topo, a, "v0", b, "v1")
    assert_pair(view, topo, a, "eth0", topo.root, topo.name("ha"))
    assert_pair(view, topo, b, "eth0", topo.root, topo.name("hb"))
    assert view.ns(a).kind == "named" and view.ns(a).names == [a.name]
    assert view.ns(b).kind == "named" and view.ns(b).names == [b.name]
