"""A plain file in /run/netns (a crash between `ip netns add`'s create and mount) is no namespace."""

from __future__ import annotations

import os
import time

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_ignores_a_stale_plain_file(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    stale = os.path.basename(topo.stale_file("stl"))
    topo.veth("v0", a, "v1", b)

    started = time.monotonic()
    view = scan()
    took = time.monotonic() - started

    assert not any(stale in n.names for n in view.inventory.namespaces)
    assert_pair(view, topo, a, "v0", b, "v1")
    # the brief retry for a mount in progress must stay brief (a generous bound, not a benchmark)
    assert took < 10
