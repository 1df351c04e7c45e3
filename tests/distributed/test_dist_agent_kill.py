"""Fault: the agent is killed with SIGKILL and restarted; the new run sends a snapshot that
brings the server back in step, with exactly the changes made while it was dead."""

from __future__ import annotations

import pytest

from tests.distributed.harness import ARRIVAL, Cluster, assert_lifecycle, describe, records_for, settle
from tests.kernel_topology import Topology

pytestmark = [pytest.mark.distributed, pytest.mark.kernel]


def test_it_catches_up_after_the_agent_is_killed_and_restarted(cluster: Cluster, topo: Topology) -> None:
    live = cluster.live()
    a, b = topo.add_netns("a"), topo.add_netns("b")
    gone, kept, born = topo.name("g0"), topo.name("k0"), topo.name("n0")
    topo.veth(gone, a, topo.name("g1"), b)
    topo.veth(kept, a, topo.name("k1"), b)

    def resolved(name: str) -> bool:
        return any(i["name"] == name and i.get("peer") for i in live.host_interfaces(cluster.node).values())

    live.wait(lambda: resolved(gone) and resolved(kept), ARRIVAL, f"{gone}, {kept} with their peers")
    logged = len(cluster.api.changes(cluster.node))
    first_run = cluster.api.node(cluster.node)["run"]
    keys = {i["name"]: i["key"] for i in live.host_interfaces(cluster.node).values()}

    assert cluster.agent is not None
    cluster.agent.kill()
    topo.delete(a, gone)  # while no agent watches
    topo.veth(born, a, topo.name("n1"), b)
    cluster.start_agent(wait=False)
    node = cluster.wait_node_online(run_not=first_run)
    assert node["run"] != first_run

    live.wait(
        lambda: live.has_interface(cluster.node, born) and not live.has_interface(cluster.node, gone),
        ARRIVAL,
        f"the new run's snapshot: {born} added, {gone} removed",
    )
    records = settle(cluster, topo.netns)
    assert_lifecycle(records, keys[gone], gone, removed=True)
    assert_lifecycle(records, keys[kept], kept, removed=False)
    relogged = records_for(records[logged:], keys[kept])
    assert not relogged, f"the new run's snapshot re-logged an unchanged veth:\n{describe(relogged)}"
    born_key = next(i["key"] for i in live.host_interfaces(cluster.node).values() if i["name"] == born)
    assert_lifecycle(records, born_key, born, removed=False)
