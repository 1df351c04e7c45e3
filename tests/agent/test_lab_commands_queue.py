"""Lab commands on the agent's own queue (a private Redis), sent as the server sends them: the
consumer hands task nsmap.agent_lab_command to agent/lab.py; forged ones change nothing."""

from __future__ import annotations

import uuid

import pytest

from agent.actions import Actions
from agent.commands import CommandConsumer, CommandExecutor
from agent.lab import LabCommands
from agent.labwire import LAB_COMMAND_TASK
from tests.agent.lab_support import KEY, Reports, signed
from tests.agent.watch_support import wait_for
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def send(url: str, node: str, body: str, signature: str | None) -> None:
    from celery import Celery

    app = Celery("test-server", broker=url, set_as_current=False)
    try:
        app.send_task(LAB_COMMAND_TASK, args=[body, signature], queue=f"node.{node}")
    finally:
        app.close()


def test_it_runs_a_signed_lab_command_from_the_queue_and_drops_a_forged_one(private_redis, topo: Topology):
    node = f"q{uuid.uuid4().hex[:6]}"
    reports, actions = Reports(), Actions(node)
    lab = LabCommands(node, KEY, actions, report=reports)
    consumer = CommandConsumer(private_redis.url, node, CommandExecutor({}), lab=lab)
    consumer.start()
    try:
        a = topo.add_netns("a")
        body, signature = signed("bridge.create", {"namespace": a.name, "name": "br1"})
        send(private_redis.url, node, body.replace("br1", "br2"), signature)
        send(private_redis.url, node, body, signature)
        assert wait_for(lambda: len(reports) == 2), f"no result from the queue: {reports}"
        assert [r["status"] for r in reports] == ["running", "done"]
        assert lab.rejected == 1
        assert sorted(link["ifname"] for link in topo.links(a)) == ["br1", "lo"], "the forged br2 was made"
    finally:
        consumer.stop()
        actions.close()
