"""A renamed veth end: the name follows, the key (namespace inode, ifindex) stays."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_follows_a_rename_with_a_stable_key(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    host = topo.name("h0")
    topo.veth(host, topo.root, "eth0", b)
    topo.up(a, "v0")
    before = scan()
    key = before.iface(a, "v0").key
    host_key = before.iface(topo.root, host).key

    topo.rename(a, "v0", "renamed0")
    topo.rename(topo.root, host, topo.name("h0new"))
    after = scan()

    assert after.iface(a, "renamed0").key == key
    assert key not in {i.key for i in after.in_ns(a) if i.name == "v0"}
    assert after.iface(topo.root, topo.name("h0new")).key == host_key
    assert after.iface(a, "renamed0").up  # rename() brought it back up
    assert_pair(after, topo, a, "renamed0", b, "v1")
    assert_pair(after, topo, topo.root, topo.name("h0new"), b, "eth0")
