"""Time travel against the kernel: a real sequence (adds, an address, a move across namespaces, a
rename, an MTU change, deletes) goes through the real agent and the ingest; afterwards the graph
drawn for each moment equals the agent's own scan taken at that moment, for what the test made."""

from __future__ import annotations

import queue
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone

from agent.discovery import Discoverer
from agent.protocol import Address
from agent.publisher import CallableTransport
from agent.runner import AgentRunner
from tests.agent.watch_support import wait_for
from tests.kernel_topology import Topology
from webui.changelog.models import Checkpoint
from webui.changelog.timetravel import graph_at, take_checkpoints
from webui.topology.queries import load_graph

pytestmark = [pytest.mark.kernel, pytest.mark.django_db]
NODE = "history-kernel"
COMPARED = ("name", "kind", "mtu", "up", "operstate", "master", "peer", "namespace")


def _interface(fields: dict[str, Any], addresses: list[str]) -> tuple[Any, ...]:
    return (*(fields[f] for f in COMPARED), tuple(sorted(addresses)))


def from_scan(inventory: Any, namespaces: set[str], prefix: str) -> dict[str, Any]:
    """What the test made, as the agent scanned it: namespace keys and interfaces by key."""
    data = inventory.to_json()
    interfaces = {
        i["key"]: _interface(i, [str(Address(**a)) for a in i["addresses"]])
        for i in data["interfaces"]
        if i["namespace"] in namespaces or i["name"].startswith(prefix)
    }
    return {"namespaces": sorted(n["key"] for n in data["namespaces"] if n["key"] in namespaces), "if": interfaces}


def from_graph(graph: dict[str, Any], namespaces: set[str], prefix: str) -> dict[str, Any]:
    def key(gid: str | None) -> str | None:
        return gid.split("/", 1)[1] if gid else None

    interfaces = {}
    for i in graph["interfaces"]:
        if i["host"] != NODE:
            continue
        fields = {**i, "master": key(i["master"]), "peer": key(i["peer"]), "namespace": key(i["namespace"])}
        if fields["namespace"] in namespaces or i["name"].startswith(prefix):
            interfaces[i["key"]] = _interface(fields, i["addresses"])
    ns = sorted(n["key"] for n in graph["namespaces"] if n["host"] == NODE and n["key"] in namespaces)
    return {"namespaces": ns, "if": interfaces}


def test_it_draws_each_moment_as_the_agent_scanned_it(topo: Topology, ingest: Any, settings: Any) -> None:
    settings.NODE_NAME = NODE
    settings.NSMAP_CHECKPOINT_RECORDS = 40
    inbox: queue.Queue[tuple[str, str | None]] = queue.Queue()
    runner = AgentRunner(CallableTransport(lambda body, sig: inbox.put((body, sig))), NODE, heartbeat_seconds=60)
    discoverer = Discoverer()
    made: set[str] = set()
    moments: list[tuple[str, datetime, dict[str, Any]]] = []

    def settle(what: str) -> None:
        """Ingest what the agent sent until the stored graph matches a fresh scan; keep that moment."""
        scanned: dict[str, Any] = {}

        def caught_up() -> bool:
            while not inbox.empty():
                body, signature = inbox.get()
                ingest(body, signature, trusted=True)
            scanned.update(from_scan(discoverer.scan(), made, topo.prefix))
            return from_graph(load_graph(), made, topo.prefix) == scanned

        assert wait_for(caught_up, timeout=20), f"the stored graph never matched the scan after: {what}"
        take_checkpoints()
        moments.append((what, timezone.now(), dict(scanned)))

    runner.start()
    try:
        a, b = topo.add_netns("a"), topo.add_netns("b")
        made.update(f"ns:{ns.inode}" for ns in (a, b))
        host_end = topo.name("h0")
        topo.veth(host_end, topo.root, "eth0", a)
        settle("a veth from root into a")
        topo.addr(a, "eth0", "10.77.0.2/24")
        topo.up(a, "eth0")
        settle("an address, and up")
        topo.move("eth0", a, b)
        settle("eth0 moved from a to b")
        topo.rename(b, "eth0", "uplink0")
        topo.mtu(b, "uplink0", 1400)
        settle("renamed and a new MTU")
        topo.delete(topo.root, host_end)
        settle("the pair deleted")
    finally:
        runner.stop()
        discoverer.close()

    assert Checkpoint.objects.exists(), "the sequence never went through a checkpoint"
    for what, moment, scanned in moments:
        drawn = from_graph(graph_at(moment), made, topo.prefix)
        assert drawn == scanned, f"the graph drawn for the moment after '{what}' is not what the agent scanned"
    scans = [scanned for _, _, scanned in moments]
    assert all(x != y for x, y in pairwise(scans)), "a step changed nothing the test compares"
