"""Fault: forged, unsigned and malformed ingest payloads. Each is rejected and logged by the
worker, and nothing is written: no state, no change record, no node, no new run."""

from __future__ import annotations

import base64
import json
import re
import time

import pytest

from agent.protocol import PROTOCOL_VERSION, make_message
from agent.signing import sign
from tests.distributed.harness import (
    ARRIVAL,
    VISIBILITY_TIMEOUT,
    Cluster,
    last_line,
    manage,
    redis_client,
    settle,
    unique,
    wait_until,
)
from tests.kernel_topology import Topology

pytestmark = [pytest.mark.distributed, pytest.mark.kernel]

FORGED = "forged0"


def forged_delta(node: str, run: str, seq: int, root_inode: int) -> str:
    """A delta that would add a namespace and an interface if the server believed it."""
    ns = {"key": "ns:1", "inode": 1, "dev": 4, "kind": "named", "names": ["forgedns"], "pids": [], "nsid": 4242}
    iface = {"key": f"if:{root_inode}:999999", "namespace": f"ns:{root_inode}", "ifindex": 999999, "name": FORGED}
    iface |= {"kind": "veth", "addresses": [], "altnames": []}
    changes = [
        {"op": "upsert", "kind": "namespace", "key": ns["key"], "data": ns},
        {"op": "upsert", "kind": "interface", "key": iface["key"], "data": iface},
    ]
    return json.dumps(make_message("delta", node, run, seq, time.time(), changes=changes))


def test_it_rejects_forged_unsigned_and_malformed_payloads(cluster: Cluster, topo: Topology) -> None:
    live = cluster.live()
    node = cluster.api.node(cluster.node)
    assert node is not None
    run, seq = node["run"], int(node.get("seq") or 0)
    root = next(n for n in cluster.api.topology()["namespaces"] if n["host"] == cluster.node and n["kind"] == "root")
    other = unique("dist-other")
    other_key = last_line(manage(cluster.env(), "nsmap_node", "add", other))
    key = cluster.node_key
    nodes_before = {n["name"] for n in cluster.api.nodes()}
    count = len(cluster.api.changes(cluster.node))

    body = forged_delta(cluster.node, run, seq + 1, root["inode"])
    ahead = forged_delta(cluster.node, run, seq + 1000, root["inode"])
    new_run = forged_delta(cluster.node, "00000000-0000-4000-8000-000000000000", 1, root["inode"])
    for_other = forged_delta(other, run, 1, root["inode"])
    stranger = forged_delta("dist-nobody", run, 1, root["inode"])
    cases: dict[str, tuple] = {
        "signed with a wrong key": (body, sign(body, "not-the-node-key")),
        "signed with another node's key": (body, sign(body, other_key)),
        "unsigned (None)": (body, None),
        "empty signature": (body, ""),
        "signature of another body": (body, sign(ahead, key)),
        "forged new run, wrong key": (new_run, sign(new_run, "x" * 32)),
        "for another node, signed with this node's key": (for_other, sign(for_other, key)),
        "unknown node": (stranger, sign(stranger, "whatever")),
        "not JSON, signed": ("{not json", sign("{not json", key)),
        "JSON but not an object, signed": ("[1, 2]", sign("[1, 2]", key)),
        "wrong protocol version, signed": (body.replace(f'"v": {PROTOCOL_VERSION}', '"v": 99'), None),
        "delta with a malformed change, signed": (
            body.replace('"op": "upsert"', '"op": "explode"'),
            sign(body.replace('"op": "upsert"', '"op": "explode"'), key),
        ),
        "body not a string": (12345, sign("12345", key)),
    }
    case = cases["wrong protocol version, signed"]
    cases["wrong protocol version, signed"] = (case[0], sign(case[0], key))
    for body_, signature in cases.values():
        cluster.send_ingest(body_, signature)
    cluster.send_ingest(body)  # one argument short: no signature

    check = topo.name("c0")  # a real change after the bad ones: once it shows, they were processed
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth(check, a, topo.name("c1"), b)
    live.wait(lambda: live.has_interface(cluster.node, check), ARRIVAL, f"{check} after the bad payloads")

    graph = cluster.api.topology()
    assert not [i for i in graph["interfaces"] if i["name"] == FORGED], "a forged interface was written"
    assert not [n for n in graph["namespaces"] if "forgedns" in (n.get("names") or [])], "a forged namespace"
    assert not live.has_interface(cluster.node, FORGED)
    assert {n["name"] for n in cluster.api.nodes()} - nodes_before <= {other}, "a node was created"
    assert cluster.api.node(cluster.node)["run"] == run, "a forged message started a new run"
    assert cluster.api.changes(other) == [], f"records for {other}, who never sent anything"
    new = cluster.api.changes(cluster.node)[count:]
    assert not [r for r in new if r["name"] in (FORGED, "forgedns")], f"forged change records: {new}"

    worker = cluster.worker
    assert worker is not None

    def rejections() -> list[str]:
        return re.findall(r"ingest rejected node=\S+ reason=(.*)", worker.log())

    # another node's inbox is drained by its own task, which may run after the check change showed
    wait_until(
        lambda: len(rejections()) >= len(cases) + 1,
        ARRIVAL,
        f"a rejection logged for each of the {len(cases) + 1} bad payloads",
        detail=lambda: "\n".join(rejections()),
    )
    settle(cluster, topo.netns)


def envelope(body: str, n: int) -> str:
    """A kombu message envelope for the ingest queue around ``body`` (already base64)."""
    return json.dumps(
        {
            "body": body,
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {"task": "nsmap.ingest", "id": f"00000000-0000-4000-8000-{n:012d}", "lang": "py"},
            "properties": {
                "body_encoding": "base64",
                "delivery_tag": f"garbage-{n}",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": "ingest"},
                "priority": 0,
            },
        }
    )


def test_it_drops_garbage_on_the_broker_and_the_same_worker_goes_on(cluster: Cluster, topo: Topology) -> None:
    """Items on the Redis list that are not Celery messages: not JSON, a body that is not base64,
    a task body of the wrong shape.

    Celery/kombu decode these inside the worker's event loop, where an exception used to end the
    worker ("Unrecoverable error"). Now the worker that took each one logs it as rejected and
    drops it for good (it does not come back from the unacknowledged set after the visibility
    timeout), and the SAME process (same pid, never restarted) then ingests a real change.
    """
    live = cluster.live()
    worker = cluster.worker
    assert worker is not None and worker.pid is not None
    pid, starts = worker.pid, worker.starts
    broker = redis_client(cluster.redis_url)
    nonsense = base64.b64encode(json.dumps({"not": "a task body"}).encode()).decode()
    garbage = [b"\x00 not a celery message", envelope("!!! not base64", 2).encode(), envelope(nonsense, 3).encode()]
    rejected_before = len(re.findall(r"ingest rejected node=\S+ reason=", worker.log()))

    markers = (b"not a celery message", b"garbage-")  # in each item (delivery tags garbage-N)

    def held() -> list[bytes]:
        """Garbage items still on the queue or held unacknowledged."""
        waiting = broker.lrange("ingest", 0, -1) + list(broker.hvals("unacked"))
        return [w for w in waiting if any(marker in w for marker in markers)]

    for item in garbage:
        broker.lpush("ingest", item)
    wait_until(lambda: not held(), 30, "the worker to take every garbage item", cluster.procs)
    time.sleep(VISIBILITY_TIMEOUT + 3)  # an item held unacknowledged would come back by now
    assert not held(), "a garbage item came back from the unacknowledged set"
    assert worker.alive() and worker.pid == pid and worker.starts == starts, worker.status()
    log = worker.log()
    assert "Unrecoverable error" not in log
    rejected = re.findall(r"ingest rejected node=\S+ reason=", log)
    assert len(rejected) - rejected_before >= len(garbage), f"{len(rejected) - rejected_before} garbage items logged"

    a, b = topo.add_netns("a"), topo.add_netns("b")
    check = topo.name("c0")
    topo.veth(check, a, topo.name("c1"), b)
    live.wait(lambda: live.has_interface(cluster.node, check), ARRIVAL, f"{check} after the garbage")
    assert worker.alive() and worker.pid == pid and worker.starts == starts, worker.status()
    settle(cluster, topo.netns)
