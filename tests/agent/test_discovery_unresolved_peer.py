"""A peer whose namespace lives only in a bind mount nsmap does not scan: "unresolved", never a
guess (even though a scanned namespace has a veth with the very ifindex the end points at)."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("side", ["named", "root"])
def test_it_leaves_a_peer_in_an_unscanned_namespace_unresolved(topo: Topology, scan: Scan, side: str) -> None:
    hidden = topo.hidden_netns()
    seen = topo.root if side == "root" else topo.add_netns("a")
    end = topo.name("hid")
    topo.veth(end, seen, "eth0", hidden)
    hidden = topo.release(hidden)  # now only the bind mount in a temp dir holds it
    # a decoy: a scanned namespace with a veth at exactly the ifindex the end points at
    decoy = topo.add_netns("d")
    topo.veth("eth0", decoy, topo.name("dh"), topo.root)
    truth = topo.link(seen, end)
    assert truth["link_index"] == topo.link(hidden, "eth0")["ifindex"] == topo.link(decoy, "eth0")["ifindex"]

    view = scan()

    assert view.records_for(hidden.inode) == []
    got = view.iface(seen, end)
    assert got.peer is None
    assert got.peer_status == "unresolved"
    assert got.peer_ifindex == truth["link_index"]
    assert got.peer_note
