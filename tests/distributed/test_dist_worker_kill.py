"""Fault: the Celery worker is killed (SIGKILL) while it holds an ingest message.

With late acknowledgement the message stays in Redis's unacked set and is given to the next
worker after the visibility timeout (the harness sets NSMAP_VISIBILITY_TIMEOUT=3); processing it
again must be harmless (the ingest is idempotent), and nothing may be lost."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.distributed.harness import (
    ARRIVAL,
    PYTHON,
    REPO,
    VISIBILITY_TIMEOUT,
    Cluster,
    HarnessError,
    redis_client,
    settle,
    wait_until,
)
from tests.kernel_topology import Topology

pytestmark = [pytest.mark.distributed, pytest.mark.kernel]

CELERY_CONF = """
import json
from webui.celery import app
c = app.conf
print(json.dumps({"acks_late": c.task_acks_late, "reject_on_worker_lost": c.task_reject_on_worker_lost,
                  "prefetch": c.worker_prefetch_multiplier, "transport": c.broker_transport_options}))
"""


def celery_conf(cluster: Cluster) -> dict:
    proc = subprocess.run(
        [PYTHON, "-c", CELERY_CONF], cwd=REPO, env=cluster.env(), capture_output=True, text=True, timeout=60
    )
    if proc.returncode:
        raise HarnessError(f"cannot read webui.celery's configuration: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def in_flight(cluster: Cluster) -> list[dict]:
    """The ingest messages a worker holds unacknowledged (kombu's "unacked" hash)."""
    held = redis_client(cluster.redis_url).hgetall("unacked")
    return [json.loads(v)[0] for v in held.values()]


def test_it_redelivers_a_message_in_flight_when_the_worker_dies(
    make_cluster: Callable[..., Cluster], topo: Topology
) -> None:
    cluster = make_cluster()
    conf = celery_conf(cluster)
    transport = conf["transport"] or {}
    assert conf["acks_late"], f"webui.celery: task_acks_late is off ({conf}): a message in flight dies with its worker"
    assert transport.get("visibility_timeout", 3600) <= 10, (
        f"webui.celery: visibility_timeout {transport.get('visibility_timeout', 3600)} s is not taken from "
        f"NSMAP_VISIBILITY_TIMEOUT={VISIBILITY_TIMEOUT}; a redelivery would take that long ({conf})"
    )
    cluster.start()
    live = cluster.live()
    a, b = topo.add_netns("a"), topo.add_netns("b")
    name = topo.name("w0")

    # Queue work while no worker runs: a new agent run (a snapshot: the longest ingest) and a delta.
    assert cluster.worker is not None and cluster.agent is not None
    cluster.worker.stop()
    run = cluster.api.node(cluster.node)["run"]
    cluster.agent.kill()
    cluster.start_agent(wait=False)
    wait_until(
        lambda: any(m.type == "snapshot" for m in cluster.waiting_messages()),
        ARRIVAL,
        "the new run's snapshot on the ingest queue",
        cluster.procs,
    )
    topo.veth(name, a, topo.name("w1"), b)
    time.sleep(0.5)

    # A worker takes the first message; freeze it (SIGSTOP) the moment it holds one, then kill it.
    task_ids: list[str] = []
    for attempt in range(3):
        worker = cluster.start_worker(wait=False)
        wait_until(lambda: in_flight(cluster), 60, "the worker to take a message", cluster.procs, interval=0.001)
        worker.signal(signal.SIGSTOP)
        task_ids = [m["headers"]["id"] for m in in_flight(cluster)]
        worker.kill()
        if task_ids:
            break
        # it acknowledged before it froze (a fast message): give it the next one
        print(f"attempt {attempt}: the message was acknowledged before the worker froze")
    assert task_ids, "could not catch the worker with a message in flight in 3 tries"
    assert {m["headers"]["id"] for m in in_flight(cluster)} == set(task_ids), "unacked messages changed"

    cluster.start_worker()
    fresh = cluster.worker
    assert fresh is not None and fresh is not worker
    wait_until(
        lambda: all(t in fresh.log() for t in task_ids),
        VISIBILITY_TIMEOUT + 30,
        f"task(s) {task_ids} redelivered to the new worker",
        cluster.procs,
    )
    cluster.wait_node_online(run_not=run)
    live.wait(lambda: live.has_interface(cluster.node, name), ARRIVAL, f"{name} after the redelivery")
    wait_until(lambda: not in_flight(cluster), 30, "no message left unacknowledged", cluster.procs)
    settle(cluster, topo.netns)
