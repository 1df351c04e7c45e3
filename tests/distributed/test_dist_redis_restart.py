"""Fault: Redis (broker and channel layer) dies mid-stream and comes back empty.

Runs its own redis-server on a free port (never the machine's shared one). While Redis is down
the agent keeps watching; when it is back, a fresh snapshot brings the server in step, and the
WebSocket client that stayed open (or reconnected by itself, as a browser does) sees it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.distributed.harness import ARRIVAL, Cluster, settle
from tests.kernel_topology import Topology

pytestmark = [pytest.mark.distributed, pytest.mark.kernel]


def test_it_recovers_when_redis_restarts_mid_stream(make_cluster: Callable[..., Cluster], topo: Topology) -> None:
    cluster = make_cluster(private_redis=True).start()
    redis = cluster.redis
    assert redis is not None
    live = cluster.live()
    a, b = topo.add_netns("a"), topo.add_netns("b")
    made: dict[str, list[str]] = {"before": [], "during": [], "after": []}

    def burst(phase: str) -> None:
        """Three pairs in quick succession: the agent publishes while Redis comes and goes."""
        for i in range(3):
            name = topo.name(f"{phase[0]}{i}")
            topo.veth(name, a, topo.name(f"{phase[0]}{i}p"), b)
            made[phase].append(name)

    def shown(names: list[str]) -> bool:
        return all(live.has_interface(cluster.node, n) for n in names)

    burst("before")
    redis.stop()  # SIGKILL mid-stream: queues, unacked messages and group memberships are gone
    burst("during")
    time.sleep(2)  # the agent sees them and must buffer; the worker and Daphne lose their connections
    redis.start()  # same port, empty
    cluster.procs.check_alive()  # nobody gave up while Redis was away
    burst("after")

    everything = made["before"] + made["during"] + made["after"]
    live.wait(lambda: shown(everything), 2 * ARRIVAL, f"all of {everything} on the WebSocket after the restart")
    print(f"WebSocket: {live.connects} connection(s), {live.graphs} graph(s), {live.patches} patches")
    settle(cluster, topo.netns)
