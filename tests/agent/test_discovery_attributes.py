"""ifindex, name, mac, mtu, operstate, up flag, alias and altnames are what `ip -j -d link` says."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan, mismatches
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_matches_iproute2_for_every_built_interface(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    topo.veth("eth0", a, topo.name("h0"), topo.root)
    topo.veth("down0", a, "down1", b)
    topo.mtu(a, "v0", 1400)
    topo.mtu(b, "v1", 9000)
    topo.alias(a, "v0", "uplink to b, with spaces")
    topo.alias(topo.root, topo.name("h0"), "host side")
    topo.altname(a, "v0", "a-very-long-altname-beyond-15")
    topo.altname(a, "v0", "second")
    topo.altname(topo.root, topo.name("h0"), topo.name("alt"))
    topo.up(a, "lo", "v0", "eth0")
    topo.up(b, "v1")
    topo.up(topo.root, topo.name("h0"))
    truth_a, truth_b = topo.links(a), topo.links(b)
    truth_root = [link for link in topo.links(topo.root) if link["ifname"].startswith(topo.prefix)]

    view = scan()

    problems = mismatches(view, topo, a, truth_a) + mismatches(view, topo, b, truth_b)
    problems += mismatches(view, topo, topo.root, truth_root)
    assert problems == []
    v0 = view.iface(a, "v0")
    assert (v0.mtu, v0.alias) == (1400, "uplink to b, with spaces")
    assert v0.altnames == ["a-very-long-altname-beyond-15", "second"]
    assert view.iface(a, "down0").up is False
    assert view.iface(a, "down0").operstate == "DOWN"
    assert view.iface(a, "v0").up is True
