"""A veth end moved to another namespace and back: the peer follows each time."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_follows_an_end_across_namespaces_and_back(topo: Topology, scan: Scan) -> None:
    a, b, c = topo.add_netns("a"), topo.add_netns("b"), topo.add_netns("c")
    topo.veth("v0", a, "v1", b)
    assert_pair(scan(), topo, a, "v0", b, "v1")

    topo.move("v1", b, c)
    view = scan()
    assert_pair(view, topo, a, "v0", c, "v1")
    assert "v1" not in {i.name for i in view.in_ns(b)}

    topo.move("v1", c, b)
    assert_pair(scan(), topo, a, "v0", b, "v1")


def test_it_follows_an_end_through_the_root_namespace(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    end = topo.name("m0")
    topo.veth("v0", a, end, b)

    topo.move(end, b, topo.root)
    assert_pair(scan(), topo, a, "v0", topo.root, end)

    topo.move(end, topo.root, b)
    view = scan()
    assert_pair(view, topo, a, "v0", b, end)
    assert end not in {i.name for i in view.in_ns(topo.root)}
