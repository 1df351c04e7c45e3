"""Symlinks in /run/netns: one that resolves is another name of the same record; one that dangles
must not break the scan."""

from __future__ import annotations

import os

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_resolves_a_symlink_to_the_same_record(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    link = topo.symlink("lnk", a)
    topo.veth("v0", a, "v1", b)

    view = scan()

    records = view.records_for(a.inode)
    assert len(records) == 1, records
    assert sorted(records[0].names) == sorted([a.name, os.path.basename(link)])
    assert records[0].kind == "named"
    assert_pair(view, topo, a, "v0", b, "v1")


def test_it_survives_a_dangling_symlink(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    dangling = os.path.basename(topo.dangling_symlink("dng"))
    topo.veth("v0", a, "v1", b)

    view = scan()

    assert not any(dangling in n.names for n in view.inventory.namespaces)
    assert_pair(view, topo, a, "v0", b, "v1")
    mentioned = [e for e in view.inventory.errors if dangling in e]
    assert len(mentioned) <= 1, mentioned  # it may be reported, once
