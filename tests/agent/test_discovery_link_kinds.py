"""macvlan, vxlan, tap and a bridge inside a namespace: kinds from IFLA_INFO_KIND, masters exact."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan, key_of, mismatches
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_reports_kinds_and_masters_inside_a_namespace(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    topo.macvlan(a, "mv0", "v0")
    topo.vxlan(a, "vx0", 42, dev="v0")
    topo.tap(a, "tap0")
    topo.bridge(a, "br0")
    topo.veth("p0", a, "p1", a)
    for port in ("tap0", "vx0", "p0"):
        topo.master(a, port, "br0")
    topo.up(a, "lo", "v0", "mv0", "br0", "tap0", "vx0", "p0", "p1")
    truth = topo.links(a)

    view = scan()

    kinds = {i.name: i.kind for i in view.in_ns(a)}
    assert kinds == {
        "lo": "loopback",
        "v0": "veth",
        "mv0": "macvlan",
        "vx0": "vxlan",
        "tap0": "tun",
        "br0": "bridge",
        "p0": "veth",
        "p1": "veth",
    }
    br0 = key_of(topo, a, "br0")
    masters = {i.name: i.master for i in view.in_ns(a)}
    assert masters == {name: (br0 if name in ("tap0", "vx0", "p0") else None) for name in kinds}
    assert view.iface(a, "mv0").peer is None and view.iface(a, "mv0").peer_status is None
    assert view.iface(a, "br0").peer_status is None
    assert mismatches(view, topo, a, truth) == []
