"""The agent's sockets into namespaces do not outlive a burst of commands: a namespace deleted by
someone else is not kept alive by nsmap (nor, with it, the veth ends that should have died)."""

from __future__ import annotations

import time

import pytest

from tests.agent.actions_support import Lab
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_lets_a_namespace_deleted_elsewhere_go_once_idle(topo: Topology, lab: Lab):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    lab.do("veth.create", {"a": {"namespace": a.name, "name": "v0"}, "b": {"namespace": b.name, "name": "v1"}})
    assert lab.actions.idle_seconds <= 1.0
    topo.ip(None, "netns", "del", b.name)  # someone else deletes b: its v1, and so v0, must go
    deadline = time.monotonic() + 15.0
    while "v0" in [link["ifname"] for link in topo.links(a)]:
        assert time.monotonic() < deadline, "v0 is still there: the agent's socket keeps the deleted namespace alive"
        time.sleep(0.2)
