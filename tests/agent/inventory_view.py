"""Look-ups and comparisons between an agent Inventory and what iproute2 says (the truth).

Kernel tests only assert about objects they built: the machine may hold other engineers'
namespaces at the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.protocol import Interface, Inventory, Namespace, interface_key, namespace_key
from tests.kernel_topology import Netns, Topology

# Fields compared with `ip -j -d link` for every interface a test built.
COMPARED = ("name", "kind", "mac", "mtu", "operstate", "up", "alias", "altnames", "master", "peer_ifindex")


class View:
    """An Inventory indexed by namespace and by (namespace, name)."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.namespaces: dict[str, Namespace] = {n.key: n for n in inventory.namespaces}
        self.interfaces: dict[str, Interface] = {i.key: i for i in inventory.interfaces}
        self._by_name: dict[tuple[str, str], Interface] = {(i.namespace, i.name): i for i in inventory.interfaces}

    def check_consistency(self) -> None:
        """Rules that hold for any whole inventory, whatever else is on the machine: unique keys,
        every interface in a listed namespace, masters in the same namespace, resolved peers
        present and mutual, unresolved ones with a reason."""
        assert len(self.namespaces) == len(self.inventory.namespaces), "duplicate namespace keys"
        assert len(self.interfaces) == len(self.inventory.interfaces), "duplicate interface keys"
        assert len({n.inode for n in self.inventory.namespaces}) == len(self.namespaces), "one inode, two records"
        for i in self.inventory.interfaces:
            assert i.namespace in self.namespaces, f"{i.key} in an unlisted namespace"
            assert i.key == interface_key(self.namespaces[i.namespace].inode, i.ifindex)
            if i.master is not None:
                assert i.master in self.interfaces, f"{i.key}: master {i.master} not listed"
                assert self.interfaces[i.master].namespace == i.namespace
            if i.peer_status == "resolved":
                other = self.interfaces.get(i.peer or "")
                assert other is not None, f"{i.key}: resolved peer {i.peer} not listed"
                assert other.peer == i.key and other.peer_status == "resolved", f"{i.key} <-> {i.peer} not mutual"
                assert i.peer_ifindex == other.ifindex
            elif i.peer_status == "unresolved":
                assert i.peer is None and i.peer_note, f"{i.key}: unresolved needs peer=None and a note"
            else:
                assert i.kind != "veth" and i.peer is None, f"{i.key}: a veth without peer_status"

    def ns(self, netns: Netns) -> Namespace:
        """The one record of ``netns`` (fails the test if discovery did not find it)."""
        key = namespace_key(netns.inode)
        assert key in self.namespaces, f"namespace {netns} ({key}) missing; errors: {self.inventory.errors}"
        return self.namespaces[key]

    def records_for(self, inode: int) -> list[Namespace]:
        return [n for n in self.inventory.namespaces if n.inode == inode]

    def iface(self, netns: Netns, name: str) -> Interface:
        key = namespace_key(netns.inode)
        found = self._by_name.get((key, name))
        assert found is not None, f"interface {name} in {netns} missing from the scan"
        return found

    def in_ns(self, netns: Netns) -> list[Interface]:
        key = namespace_key(netns.inode)
        return [i for i in self.inventory.interfaces if i.namespace == key]


def key_of(topo: Topology, netns: Netns, name: str) -> str:
    """The interface key that iproute2's ifindex implies: what discovery must report."""
    return interface_key(netns.inode, topo.link(netns, name)["ifindex"])


def expected_kind(link: dict[str, Any]) -> str:
    """IFLA_INFO_KIND as `ip -d` prints it; "loopback" or "device" when there is none."""
    kind = link.get("linkinfo", {}).get("info_kind")
    if kind:
        return str(kind)
    return "loopback" if "LOOPBACK" in link.get("flags", []) else "device"


def expected_fields(link: dict[str, Any], links: list[dict[str, Any]], ns_inode: int) -> dict[str, Any]:
    """The Interface fields that `ip -j -d link` (one namespace's ``links``) determines."""
    index_by_name = {item["ifname"]: item["ifindex"] for item in links}
    master = link.get("master")
    kind = expected_kind(link)
    peer_ifindex = None
    if kind == "veth":
        # another namespace: "link_index"; the same namespace: "link" is the peer's name
        peer_ifindex = link.get("link_index") or index_by_name.get(link.get("link", ""))
    return {
        "name": link["ifname"],
        "kind": kind,
        "mac": link.get("address"),
        "mtu": link.get("mtu"),
        "operstate": link.get("operstate"),
        "up": "UP" in link.get("flags", []),
        "alias": link.get("ifalias") or None,
        "altnames": list(link.get("altnames", [])),
        "master": interface_key(ns_inode, index_by_name[master]) if master else None,
        "peer_ifindex": peer_ifindex,
    }


def mismatches(view: View, topo: Topology, netns: Netns, before: list[dict[str, Any]]) -> list[str]:
    """Differences between the scan and `ip -j -d link` in ``netns``.

    ``before`` is the truth read before the scan; the truth is read again after it, and a field
    that changed in between (operstate settles about a second after `up`) is not compared.
    """
    after = topo.links(netns)
    inode = netns.inode
    after_by_index = {link["ifindex"]: link for link in after}
    problems = []
    for link in before:
        again = after_by_index.get(link["ifindex"])
        if again is None:
            continue
        want = expected_fields(link, before, inode)
        want_again = expected_fields(again, after, inode)
        got = view.interfaces.get(interface_key(inode, link["ifindex"]))
        if got is None:
            problems.append(f"{netns}: {link['ifname']} (ifindex {link['ifindex']}) missing from the scan")
            continue
        for name in COMPARED:
            if want[name] != want_again[name]:
                continue  # changing while we looked
            value = getattr(got, name)
            if name == "mac" and value is not None:
                value = value.lower()
            if value != want[name]:
                problems.append(f"{netns}: {link['ifname']}.{name}: scan {value!r}, ip -j {want[name]!r}")
    return problems


def assert_pair(view: View, topo: Topology, a_ns: Netns, a_name: str, b_ns: Netns, b_name: str) -> None:
    """Both ends of a veth pair the test built point at each other by exact key."""
    a, b = view.iface(a_ns, a_name), view.iface(b_ns, b_name)
    a_key, b_key = key_of(topo, a_ns, a_name), key_of(topo, b_ns, b_name)
    assert (a.key, b.key) == (a_key, b_key)
    assert (a.peer, a.peer_status) == (b_key, "resolved"), f"{a_ns}/{a_name}: {a.peer_note}"
    assert (b.peer, b.peer_status) == (a_key, "resolved"), f"{b_ns}/{b_name}: {b.peer_note}"
    assert a.peer_ifindex == b.ifindex and b.peer_ifindex == a.ifindex


Scan = Callable[[], View]  # the type of the ``scan`` fixture
