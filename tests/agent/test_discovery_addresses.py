"""Addresses, IPv4 and IPv6, with prefix lengths: exactly what `ip -j addr` shows."""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import Scan
from tests.kernel_topology import Netns, Topology

pytestmark = pytest.mark.kernel


def ip_addresses(topo: Topology, ns: Netns) -> dict[str, set[tuple[int, str, int]]]:
    """{ifname: {(family, address, prefixlen)}} from `ip -j addr show`."""
    out: dict[str, set[tuple[int, str, int]]] = {}
    for link in topo.addrs(ns):
        entries = out.setdefault(link["ifname"], set())
        for info in link.get("addr_info", []):
            entries.add((4 if info["family"] == "inet" else 6, info["local"], info["prefixlen"]))
    return out


def test_it_reports_ipv4_and_ipv6_with_prefix_lengths(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    topo.addr(a, "v0", "10.11.12.1/24")
    topo.addr(a, "v0", "192.0.2.7/32")
    topo.addr(a, "v0", "fd00:11::1/64")
    topo.addr(a, "v0", "2001:db8:a::2/128")
    topo.addr(b, "v1", "fd00:11::2/56")
    topo.up(a, "lo", "v0")
    topo.up(b, "v1")  # brings fe80::/64 link-local addresses too
    truth = {"a": ip_addresses(topo, a), "b": ip_addresses(topo, b)}

    view = scan()

    for label, ns in (("a", a), ("b", b)):
        got = {i.name: {(x.family, x.address, x.prefixlen) for x in i.addresses} for i in view.in_ns(ns)}
        again = ip_addresses(topo, ns)
        for name, want in truth[label].items():
            if want == again.get(name):
                assert got.get(name, set()) == want, name
    v0 = {str(x) for x in view.iface(a, "v0").addresses}
    assert {"10.11.12.1/24", "192.0.2.7/32", "fd00:11::1/64", "2001:db8:a::2/128"} <= v0
    assert {str(x) for x in view.iface(a, "lo").addresses} >= {"127.0.0.1/8", "::1/128"}
    scopes = {str(x): x.scope for x in view.iface(a, "v0").addresses}
    assert scopes["fd00:11::1/64"] == "global"
    assert all(x.scope == "link" for x in view.iface(b, "v1").addresses if x.address.startswith("fe80:"))
