"""Docker's bind mounts (/var/run/docker/netns/<id>) make "docker" namespaces. The test points
the Discoverer at a private directory of its own instead of touching the real docker directory;
with the same namespace that the unresolved-peer test hides, the peer now resolves."""

from __future__ import annotations

import os

import pytest

from agent.discovery import Discoverer
from agent.namespaces import NAMED_DIRS
from tests.agent.inventory_view import View, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_names_a_namespace_bind_mounted_in_a_docker_directory(topo: Topology) -> None:
    held = topo.hidden_netns()  # a bind mount at <tmp>/net
    end = topo.name("dk0")
    topo.veth(end, topo.root, "eth0", held)
    held = topo.release(held)  # only the mount holds it now
    docker_dir = os.path.dirname(held.path)
    dirs = (*[d for d in NAMED_DIRS if d[1] != "docker"], (docker_dir, "docker"))

    with Discoverer(named_dirs=dirs) as discoverer:
        view = View(discoverer.scan())
    view.check_consistency()

    record = view.ns(held)
    assert record.kind == "docker"
    assert record.names == [os.path.basename(held.path)]
    assert_pair(view, topo, topo.root, end, held, "eth0")
