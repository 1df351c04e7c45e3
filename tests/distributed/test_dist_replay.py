"""Fault: messages the server already applied are sent again, byte for byte (same body, same
signature), through Celery. Nothing changes: no state, no change record."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.distributed.harness import (
    ARRIVAL,
    Cluster,
    Queued,
    assert_lifecycle,
    describe,
    records_for,
    settle,
    wait_until,
)
from tests.kernel_topology import Topology

pytestmark = [pytest.mark.distributed, pytest.mark.kernel]


def test_it_ignores_replayed_messages(make_cluster: Callable[..., Cluster], topo: Topology) -> None:
    cluster = make_cluster()
    cluster.add_node()
    cluster.start_web()
    cluster.start_agent(wait=False)  # no worker yet: its messages wait on the queue, where we copy them
    wait_until(lambda: cluster.waiting_messages(), 30, "the agent's snapshot on the ingest queue", cluster.procs)
    a, b = topo.add_netns("a"), topo.add_netns("b")
    replayed, sentinel = topo.name("r0"), topo.name("s0")
    topo.veth(replayed, a, topo.name("r1"), b)

    def captured() -> list[Queued] | None:
        messages = cluster.waiting_messages()
        return messages if any(replayed in m.body for m in messages) else None

    messages = wait_until(captured, 30, f"a delta with {replayed} on the queue", cluster.procs)
    types = [m.type for m in messages]
    assert types[0] == "snapshot", f"the first message of a run is {types[0]} ({types})"
    add_delta = next(m for m in messages if replayed in m.body and m.type == "delta")

    cluster.start_worker()
    cluster.wait_node_online()
    live = cluster.live()
    live.wait(lambda: live.has_interface(cluster.node, replayed), ARRIVAL, f"{replayed} applied once")
    key = next(i["key"] for i in live.host_interfaces(cluster.node).values() if i["name"] == replayed)
    view = cluster.server_view()
    count = len(cluster.api.changes(cluster.node))

    for message in messages:  # the snapshot, the delta, heartbeats: all again
        cluster.send_ingest(message.body, message.signature)
    check = topo.name("c0")  # a real change after the replays: once it shows, they were processed
    topo.veth(check, a, topo.name("c1"), b)
    live.wait(lambda: live.has_interface(cluster.node, check), ARRIVAL, f"{check} after the replays")
    ns_keys = {f"ns:{a.inode}", f"ns:{b.inode}"}
    # (a namespace may legitimately change meanwhile: a process entering it shows in its pids)
    new = [r for r in cluster.api.changes(cluster.node)[count:] if r["object_key"] in {key} | ns_keys]
    suspect = [r for r in new if r["object_key"] == key or r["action"] != "changed"]
    assert not suspect, f"the replays wrote change records:\n{describe(suspect)}"
    mine = view.restrict(ns_keys).interfaces
    assert mine <= cluster.server_view().interfaces, "the replayed snapshot removed the test's interfaces"

    topo.delete(a, replayed)
    live.wait(lambda: not live.has_interface(cluster.node, replayed), ARRIVAL, f"{replayed} removed")
    cluster.send_ingest(add_delta.body, add_delta.signature)  # a stale delta must not bring it back
    topo.veth(sentinel, a, topo.name("s1"), b)
    live.wait(lambda: live.has_interface(cluster.node, sentinel), ARRIVAL, f"{sentinel} after the stale delta")
    assert not live.has_interface(cluster.node, replayed), f"the replayed delta brought {replayed} back"
    assert not any(i["name"] == replayed for i in cluster.api.topology()["interfaces"])

    assert cluster.worker is not None
    logged = re.findall(
        rf"ingest rejected node={cluster.node} reason=stale seq \d+ <= \d+ \(replay\)", cluster.worker.log()
    )
    assert len(logged) >= len(messages) + 1, f"{len(logged)} replays logged for {len(messages) + 1} sent"

    records = settle(cluster, topo.netns)
    assert_lifecycle(records, key, replayed, removed=True)
    for ns in (a, b):
        mine = [r for r in records_for(records, f"ns:{ns.inode}") if r["name"] == ns.name]
        actions = [r["action"] for r in mine]
        assert actions[:1] == ["added"] and actions.count("added") == 1, f"{ns} added again:\n{describe(mine)}"
        assert "removed" not in actions, f"{ns} removed by a replay:\n{describe(mine)}"
