"""A peer whose namespace nothing visible holds (only a socket in flight in a unix socketpair, no
fd of it anywhere): "unresolved", never a guess (even though a scanned namespace has a veth with
the very ifindex the end points at)."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("side", ["named", "root"])
def test_it_leaves_a_peer_in_an_unscanned_namespace_unresolved(topo: Topology, scan: Scan, side: str) -> None:
    hidden = topo.add_netns("h")
    seen = topo.root if side == "root" else topo.add_netns("a")
    end = topo.name("hid")
    topo.veth(end, seen, "eth0", hidden)
    hidden_link, hidden_inode = topo.link(hidden, "eth0"), hidden.inode
    topo.hold(hidden, "inflight")
    topo.ip(None, "netns", "del", str(hidden.name))  # now only the socket in flight holds it
    # a decoy: a scanned namespace with a veth at exactly the ifindex the end points at
    decoy = topo.add_netns("d")
    topo.veth("eth0", decoy, topo.name("dh"), topo.root)
    truth = topo.link(seen, end)
    assert truth["link_index"] == hidden_link["ifindex"] == topo.link(decoy, "eth0")["ifindex"]

    view = scan()

    assert view.records_for(hidden_inode) == []
    got = view.iface(seen, end)
    assert got.peer is None
    assert got.peer_status == "unresolved"
    assert got.peer_ifindex == truth["link_index"]
    assert got.peer_note
