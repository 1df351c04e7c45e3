"""Turn raw per-namespace link/address dumps into interface records with exact veth peers.

Pure: no I/O, so the rules that decide correctness are tested without root.

A veth's IFLA_LINK is its peer's ifindex *in the peer's namespace*; IFLA_LINK_NETNSID names that
namespace by its id in the observer's (root's) id space, and is absent when the peer shares the
end's namespace. A peer counts as resolved only when both ends point at each other; anything
else is "unresolved" with the reason. Matching by ifindex alone is never done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.netlink import IFF_UP, Addr, AddrFields, Link, LinkFields, addr_from, link_from
from agent.protocol import Address, Interface, Namespace, interface_key

RawDump = tuple[list[LinkFields], list[AddrFields]]


@dataclass(slots=True)
class ObservedNamespace:
    record: Namespace
    links: list[Link] = field(default_factory=list)
    addresses: list[Addr] = field(default_factory=list)
    readable: bool = True  # False when its links could not be dumped (no privilege, bad answer)
    raw: RawDump | None = field(default=None, compare=False)  # the dumps as read (decode() fills the lists)

    def decode(self) -> ObservedNamespace:
        if self.raw is not None:
            self.links = [link_from(fields) for fields in self.raw[0]]
            self.addresses = [addr_from(fields) for fields in self.raw[1]]
        return self


def _peer_location(link: Link, own_inode: int, inode_by_nsid: dict[int, int]) -> tuple[int | None, int | None]:
    """(namespace inode, ifindex) that ``link`` says its peer has; inode None if unknown."""
    if not link.link:
        return None, None
    if link.link_netnsid is None:
        return own_inode, link.link
    return inode_by_nsid.get(link.link_netnsid), link.link


def index_links(observed: list[ObservedNamespace]) -> dict[tuple[int, int], Link]:
    """(namespace inode, ifindex) -> link, the lookup that peer resolution needs."""
    return {(ns.record.inode, link.ifindex): link for ns in observed for link in ns.links}


def assemble_interfaces(
    observed: list[ObservedNamespace],
    inode_by_nsid: dict[int, int],
    links_by_place: dict[tuple[int, int], Link] | None = None,
    unreadable: set[int] | None = None,
) -> list[Interface]:
    """Interface records for the observed links, peers resolved exactly or marked unresolved.

    ``links_by_place`` indexes every namespace's links and ``unreadable`` names the namespaces
    whose links could not be read, when only some namespaces are being assembled.
    """
    if links_by_place is None:
        links_by_place = index_links(observed)
    if unreadable is None:
        unreadable = {ns.record.inode for ns in observed if not ns.readable}
    interfaces: list[Interface] = []
    for ns in observed:
        inode = ns.record.inode
        addresses: dict[int, list[Address]] = {}
        for addr in ns.addresses:
            addresses.setdefault(addr.ifindex, []).append(
                Address(family=addr.family, address=addr.address, prefixlen=addr.prefixlen, scope=addr.scope)
            )
        for link in sorted(ns.links, key=lambda item: item.ifindex):
            interface = Interface(
                key=interface_key(inode, link.ifindex),
                namespace=ns.record.key,
                ifindex=link.ifindex,
                name=link.name,
                kind=link.kind,
                mac=link.mac,
                mtu=link.mtu,
                operstate=link.operstate,
                up=bool(link.flags & IFF_UP),
                master=interface_key(inode, link.master) if link.master else None,
                addresses=addresses.get(link.ifindex, []),
                altnames=list(link.altnames),
                alias=link.alias,
            )
            if link.kind == "veth":
                _resolve_peer(interface, link, inode, inode_by_nsid, links_by_place, unreadable)
            interfaces.append(interface)
    return interfaces


def _resolve_peer(
    interface: Interface,
    link: Link,
    inode: int,
    inode_by_nsid: dict[int, int],
    links_by_place: dict[tuple[int, int], Link],
    unreadable: set[int],
) -> None:
    interface.peer_ifindex = link.link or None
    interface.peer_status = "unresolved"
    peer_inode, peer_ifindex = _peer_location(link, inode, inode_by_nsid)
    if peer_ifindex is None:
        interface.peer_note = "the kernel reported no peer index"
        return
    if peer_inode is None:
        interface.peer_note = (
            f"the peer (ifindex {peer_ifindex}) is in a namespace nsmap cannot see (netnsid {link.link_netnsid})"
        )
        return
    peer = links_by_place.get((peer_inode, peer_ifindex))
    if peer is None and peer_inode in unreadable:
        interface.peer_note = f"the peer (ifindex {peer_ifindex}) is in a namespace whose links could not be read"
        return
    if peer is None or peer.kind != "veth":
        interface.peer_note = f"no veth with ifindex {peer_ifindex} in the peer's namespace"
        return
    if _peer_location(peer, peer_inode, inode_by_nsid) != (inode, link.ifindex):
        interface.peer_note = "the two ends do not point at each other (changed during the scan?)"
        return
    interface.peer = interface_key(peer_inode, peer_ifindex)
    interface.peer_status = "resolved"
