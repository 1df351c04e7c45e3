"""Twenty "containers": every eth0 is ifindex 2, each paired with a host veth on one bridge.

The seed's question ("which host vethXXXX is this container's eth0?") where ifindex alone is
ambiguous twenty times over.
"""

from __future__ import annotations

import pytest

from agent.protocol import interface_key
from tests.agent.inventory_view import Scan, assert_pair, key_of
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel

CONTAINERS = 20


def test_it_pairs_every_container_eth0_with_its_host_veth(topo: Topology, scan: Scan) -> None:
    bridge = topo.name("br")
    topo.bridge(topo.root, bridge)
    topo.up(topo.root, bridge)
    containers = []
    for n in range(CONTAINERS):
        ns = topo.add_netns(f"c{n:02d}")
        host = topo.name(f"v{n:02d}")
        topo.veth(host, topo.root, "eth0", ns)
        topo.master(topo.root, host, bridge)
        topo.up(topo.root, host)
        topo.up(ns, "eth0")
        containers.append((ns, host))
    # the premise: iproute2 shows the same ifindex for every container's eth0
    assert {topo.link(ns, "eth0")["ifindex"] for ns, _ in containers} == {2}

    view = scan()

    bridge_key = key_of(topo, topo.root, bridge)
    assert view.interfaces[bridge_key].kind == "bridge"
    for ns, host in containers:
        assert_pair(view, topo, ns, "eth0", topo.root, host)
        assert view.iface(topo.root, host).master == bridge_key
        assert view.iface(ns, "eth0").key == interface_key(ns.inode, 2)
        assert view.iface(ns, "eth0").master is None
