"""Veth peers are resolved exactly through namespace ids, or honestly left unresolved."""

from __future__ import annotations

import socket

from agent import netlink as nl
from agent.netlink import IFF_UP, Addr, Link
from agent.peers import ObservedNamespace, assemble_interfaces
from agent.protocol import Address, Namespace, interface_key, namespace_key
from tests.factories import addr_body, veth_body

ROOT = 1000


def namespace(inode: int, nsid: int | None = None) -> ObservedNamespace:
    kind = "root" if inode == ROOT else "named"
    return ObservedNamespace(Namespace(namespace_key(inode), inode, 4, kind, names=[f"ns{inode}"], nsid=nsid))


def veth(ifindex: int, name: str, peer: int, netnsid: int | None) -> Link:
    return Link(ifindex=ifindex, name=name, kind="veth", flags=IFF_UP, link=peer, link_netnsid=netnsid)


def containers(count: int) -> tuple[list[ObservedNamespace], dict[int, int]]:
    """``count`` namespaces whose eth0 are all ifindex 2, each paired with a host veth."""
    root = namespace(ROOT)
    root.links.append(Link(ifindex=3, name="br0", kind="bridge"))
    observed = [root]
    inode_by_nsid = {99: ROOT}
    for n in range(count):
        inode, nsid = 2000 + n, n
        ns = namespace(inode, nsid)
        # seen from root's socket: the container's peer lives in root (root's own id is 99)
        ns.links.append(veth(2, "eth0", peer=10 + n, netnsid=99))
        root.links.append(veth(10 + n, f"veth{n}", peer=2, netnsid=nsid))
        root.links[-1].master = 3
        observed.append(ns)
        inode_by_nsid[nsid] = inode
    return observed, inode_by_nsid


def by_key(observed: list[ObservedNamespace], inode_by_nsid: dict[int, int]) -> dict:
    return {i.key: i for i in assemble_interfaces(observed, inode_by_nsid)}


def test_it_pairs_twenty_containers_whose_eth0_share_an_ifindex_exactly() -> None:
    observed, ids = containers(20)
    interfaces = by_key(observed, ids)
    for n in range(20):
        eth0 = interfaces[interface_key(2000 + n, 2)]
        host = interfaces[interface_key(ROOT, 10 + n)]
        assert eth0.peer == host.key, f"container {n}'s eth0 paired with {eth0.peer}, not {host.key}"
        assert host.peer == eth0.key
        assert (eth0.peer_status, host.peer_status) == ("resolved", "resolved")
        assert host.master == interface_key(ROOT, 3)
        assert eth0.peer_ifindex == 10 + n


def test_it_pairs_ends_in_the_same_namespace_without_a_netnsid() -> None:
    ns = namespace(3000, 1)
    ns.links += [veth(4, "a", peer=5, netnsid=None), veth(5, "b", peer=4, netnsid=None)]
    interfaces = by_key([namespace(ROOT), ns], {1: 3000})
    assert interfaces[interface_key(3000, 4)].peer == interface_key(3000, 5)


def test_it_leaves_a_peer_in_an_unseen_namespace_unresolved_instead_of_guessing() -> None:
    observed, ids = containers(2)
    # a third veth whose peer's namespace (netnsid 7) was never found; ifindex 2 exists elsewhere
    observed[0].links.append(veth(50, "orphan", peer=2, netnsid=7))
    orphan = by_key(observed, ids)[interface_key(ROOT, 50)]
    assert orphan.peer is None
    assert orphan.peer_status == "unresolved"
    assert "cannot see" in orphan.peer_note


def test_it_refuses_a_peer_that_does_not_point_back() -> None:
    a, b = namespace(4000, 1), namespace(4001, 2)
    a.links.append(veth(2, "x", peer=2, netnsid=2))
    b.links.append(veth(2, "y", peer=9, netnsid=1))  # changed between the two dumps
    x = by_key([namespace(ROOT), a, b], {1: 4000, 2: 4001})[interface_key(4000, 2)]
    assert (x.peer, x.peer_status) == (None, "unresolved")
    assert x.peer_note == "the two ends do not point at each other (changed during the scan?)"


def test_it_refuses_a_peer_index_that_is_not_a_veth() -> None:
    a, b = namespace(4000, 1), namespace(4001, 2)
    a.links.append(veth(2, "x", peer=1, netnsid=2))
    b.links.append(Link(ifindex=1, name="lo", kind="loopback"))
    x = by_key([namespace(ROOT), a, b], {1: 4000, 2: 4001})[interface_key(4000, 2)]
    assert x.peer_status == "unresolved"
    assert x.peer_note == "no veth with ifindex 1 in the peer's namespace"


def test_it_attaches_addresses_master_and_state_to_their_interface() -> None:
    ns = namespace(5000, 1)
    ns.links += [
        Link(ifindex=2, name="br0", kind="bridge", flags=IFF_UP, operstate="UP"),
        Link(ifindex=3, name="tap0", kind="tun", master=2, operstate="DOWN", alias="lab", altnames=["tap-long"]),
    ]
    ns.addresses += [Addr(2, 4, "10.0.0.1", 24, "global"), Addr(2, 6, "fe80::1", 64, "link")]
    interfaces = by_key([ns], {1: 5000})
    bridge, tap = interfaces[interface_key(5000, 2)], interfaces[interface_key(5000, 3)]
    assert [str(a) for a in bridge.addresses] == ["10.0.0.1/24", "fe80::1/64"]
    assert (bridge.up, bridge.operstate, tap.up, tap.operstate) == (True, "UP", False, "DOWN")
    assert tap.master == bridge.key
    assert (tap.alias, tap.altnames) == ("lab", ["tap-long"])
    assert tap.peer_status is None, "only veths have peers"


def test_it_says_when_the_peer_namespace_could_not_be_read() -> None:
    a, b = namespace(4000, 1), namespace(4001, 2)
    a.links.append(veth(2, "eth0", peer=5, netnsid=2))
    b.readable = False
    x = by_key([namespace(ROOT), a, b], {1: 4000, 2: 4001})[interface_key(4000, 2)]
    assert x.peer_status == "unresolved" and x.peer is None
    assert x.peer_note == "the peer (ifindex 5) is in a namespace whose links could not be read"
    assert x.peer_ifindex == 5


def test_it_copies_every_field_of_a_link() -> None:
    ns = namespace(5000, 1)
    ns.links.append(
        Link(
            ifindex=4,
            name="vx0",
            kind="vxlan",
            flags=IFF_UP,
            mac="02:00:00:00:00:04",
            mtu=1450,
            operstate="UNKNOWN",
            alias="overlay",
            altnames=["vxlan-overlay"],
        )
    )
    (vx,) = assemble_interfaces([ns], {1: 5000})
    assert (vx.key, vx.namespace, vx.ifindex, vx.name, vx.kind) == (
        interface_key(5000, 4),
        ns.record.key,
        4,
        "vx0",
        "vxlan",
    )
    assert (vx.mac, vx.mtu, vx.operstate, vx.up) == ("02:00:00:00:00:04", 1450, "UNKNOWN", True)
    assert (vx.alias, vx.altnames, vx.master, vx.addresses) == ("overlay", ["vxlan-overlay"], None, [])
    assert (vx.peer, vx.peer_status, vx.peer_note, vx.peer_ifindex) == (None, None, None, None)


def test_it_explains_a_veth_without_a_peer_index() -> None:
    ns = namespace(5000, 1)
    ns.links.append(veth(2, "eth0", peer=0, netnsid=None))
    (x,) = assemble_interfaces([ns], {1: 5000})
    assert (x.peer_status, x.peer_ifindex) == ("unresolved", None)
    assert x.peer_note == "the kernel reported no peer index"


def test_it_resolves_a_peer_that_was_read_even_when_its_namespace_is_listed_unreadable() -> None:
    observed, ids = containers(1)
    interfaces = {i.key: i for i in assemble_interfaces(observed, ids, unreadable={ROOT})}
    assert interfaces[interface_key(2000, 2)].peer == interface_key(ROOT, 10), "a peer that was read was refused"


def test_it_copies_each_address_whole() -> None:
    ns = namespace(5000, 1)
    ns.links.append(Link(ifindex=2, name="eth0", kind="device"))
    ns.addresses.append(Addr(2, 6, "fe80::2", 64, "link"))
    (eth0,) = assemble_interfaces([ns], {1: 5000})
    assert eth0.addresses == [Address(family=6, address="fe80::2", prefixlen=64, scope="link")]


def test_it_decodes_the_dumps_it_was_handed_before_resolving() -> None:
    link = veth_body(ifindex=5, peer=2, netnsid=None)
    addresses = [
        addr_body(socket.AF_INET, bytes([10, 0, 0, 1]), 24),
        addr_body(socket.AF_INET6, b"\xfd" + b"\0" * 14 + b"\1", 64),
    ]
    observed = namespace(ROOT)
    observed.raw = ([nl.read_link(link, 0, len(link))], [nl.read_addr(a, 0, len(a)) for a in addresses])
    assert observed.decode() is observed
    assert observed.links == [nl.parse_link(link, 0, len(link))]
    assert observed.addresses == [nl.parse_addr(a, 0, len(a)) for a in addresses]
    kept = namespace(ROOT)
    kept.links.append(veth(3, "v3", peer=4, netnsid=None))
    assert kept.decode().links == [veth(3, "v3", peer=4, netnsid=None)], "decoding nothing dropped the links"
