"""Veth pairs created, addressed, renamed, moved and deleted reach the state through events alone.

The periodic reconcile is off in these tests: every step is followed by netlink events only,
and the state must equal a fresh scan after each one.
"""

from __future__ import annotations

import pytest

from tests.agent.inventory_view import assert_pair
from tests.agent.watch_support import assert_converges, no_rescan, view

pytestmark = pytest.mark.kernel


def test_it_follows_a_pair_through_create_address_rename_move_and_delete(topo, watcher):
    w, rec = watcher
    a, b, c = topo.add_netns("a"), topo.add_netns("b"), topo.add_netns("c")
    spaces = [a, b, c]
    assert_converges(w, rec, topo, spaces)

    topo.veth("v0", a, "v1", b)
    assert_converges(w, rec, topo, spaces)
    assert_pair(view(w), topo, a, "v0", b, "v1")

    topo.addr(a, "v0", "10.77.0.1/24")
    topo.addr(a, "v0", "fd77::1/64")
    topo.up(a, "v0")
    assert_converges(w, rec, topo, spaces)
    addresses = {str(x) for x in view(w).iface(a, "v0").addresses}
    assert {"10.77.0.1/24", "fd77::1/64"} <= addresses

    topo.rename(b, "v1", "eth0")
    assert_converges(w, rec, topo, spaces)
    assert_pair(view(w), topo, a, "v0", b, "eth0")

    topo.move("eth0", b, c)  # a, holding the other end, hears nothing
    assert_converges(w, rec, topo, spaces)
    assert_pair(view(w), topo, a, "v0", c, "eth0")
    assert not view(w).in_ns(b) or {i.name for i in view(w).in_ns(b)} == {"lo"}

    topo.delete(a, "v0")
    assert_converges(w, rec, topo, spaces)
    assert {i.name for i in view(w).in_ns(a)} == {"lo"}
    assert {i.name for i in view(w).in_ns(c)} == {"lo"}
    no_rescan(w)


def test_it_follows_an_end_moved_out_of_and_back_into_the_root_namespace(topo, watcher):
    w, rec = watcher
    a, b = topo.add_netns("a"), topo.add_netns("b")
    end = topo.name("m0")
    topo.veth(end, topo.root, "eth0", a)
    assert_converges(w, rec, topo, [a, b])
    assert_pair(view(w), topo, topo.root, end, a, "eth0")

    topo.move(end, topo.root, b)
    assert_converges(w, rec, topo, [a, b])
    assert_pair(view(w), topo, b, end, a, "eth0")

    topo.move(end, b, topo.root)
    assert_converges(w, rec, topo, [a, b])
    assert_pair(view(w), topo, topo.root, end, a, "eth0")
    no_rescan(w)


def test_it_keeps_same_namespace_pairs_and_bridge_ports(topo, watcher):
    w, rec = watcher
    a = topo.add_netns("a")
    topo.bridge(a, "br0")
    topo.veth("x0", a, "x1", a)
    topo.master(a, "x0", "br0")
    assert_converges(w, rec, topo, [a])
    v = view(w)
    assert_pair(v, topo, a, "x0", a, "x1")
    assert v.iface(a, "x0").master == v.iface(a, "br0").key
    topo.master(a, "x0", None)
    assert_converges(w, rec, topo, [a])
    assert view(w).iface(a, "x0").master is None
    no_rescan(w)
