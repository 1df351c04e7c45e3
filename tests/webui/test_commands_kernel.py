"""A lab command through the whole path against the real kernel: API -> queue (or in-process) ->
agent (agent/lab.py, authenticated again) -> kernel -> command_result -> the command's status,
announced on the WebSocket group."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from agent.actions import Actions
from agent.commands import parse_lab_celery_message
from agent.lab import LabCommands
from agent.labwire import LAB_COMMAND_TASK
from tests.kernel_topology import Topology
from tests.webui.commands_support import URL, make_operator, mark_online, post, taken
from webui.commands.models import Command

pytestmark = [pytest.mark.django_db, pytest.mark.kernel]


async def drain(layer: Any, channel: str) -> list[dict[str, Any]]:
    """Every message waiting on ``channel`` (the in-memory layer answers at once when there is one)."""
    out = []
    while True:
        try:
            out.append(await asyncio.wait_for(layer.receive(channel), 0.2))
        except TimeoutError:
            return out


@pytest.fixture
def actions() -> Any:
    helper = Actions("h1")
    yield helper
    helper.close()


def test_it_runs_a_command_through_the_node_queue(
    client, topo: Topology, node_key: str, actions: Actions, django_capture_on_commit_callbacks
):
    from webui.commands.tasks import command_result

    mark_online("h1")
    a, b = topo.add_netns("a"), topo.add_netns("b")
    _, token = make_operator()
    args = {"a": {"namespace": a.name, "name": "veth0", "up": True}, "b": {"namespace": b.name, "name": "veth1"}}
    with django_capture_on_commit_callbacks(execute=True):
        created = post(client, token, {"node": "h1", "verb": "veth.create", "args": args})
    assert created.status_code == 202, created.content
    agent = LabCommands("h1", node_key, actions, report=command_result)  # the task, as a worker runs it
    with django_capture_on_commit_callbacks(execute=True):
        for _task, payload in taken("h1"):
            agent.handle(*parse_lab_celery_message(payload))
    command = client.get(f"{URL}{created.json()['id']}/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert command["status"] == "done", command["error"]
    assert (
        "UP" in topo.link(a, "veth0")["flags"]
        and topo.link(b, "veth1")["link_index"] == topo.link(a, "veth0")["ifindex"]
    )
    assert command["result"]["a"]["interface"] == f"h1/if:{a.inode}:{topo.link(a, 'veth0')['ifindex']}"
    timings = command["timings"]
    assert timings["created"] <= timings["sent"] <= timings["started"] <= timings["finished"]
    assert set(timings["agent"]) == {"received", "started", "finished"}


def test_it_runs_a_command_in_process_when_embedded_and_announces_each_status(
    client, topo: Topology, settings, actions: Actions, django_capture_on_commit_callbacks
):
    from webui.commands.local import apply_report
    from webui.commands.service import local_key
    from webui.live import embedded

    settings.EMBEDDED = True
    node = settings.NODE_NAME
    agent = LabCommands(node, local_key(node), actions, report=apply_report)  # nsmap_serve: through a thread
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("topology", channel)
    a = topo.add_netns("a")
    _, token = make_operator()
    embedded.register(LAB_COMMAND_TASK, agent.handle)  # synchronous here; nsmap_serve gives it a thread
    try:
        with django_capture_on_commit_callbacks(execute=True):
            created = post(
                client, token, {"node": node, "verb": "bridge.create", "args": {"namespace": a.name, "name": "br0"}}
            )
    finally:
        embedded.register(LAB_COMMAND_TASK, None)
    assert created.status_code == 202, created.content
    assert Command.objects.get(pk=created.json()["id"]).status == "done"
    assert topo.link(a, "br0")["ifalias"] == f"nsmap:{created.json()['id']}"
    announced = [json.loads(m["text"])["command"] for m in async_to_sync(drain)(layer, channel)]
    seen = [command["status"] for command in announced]
    assert seen == ["requested", "running", "done"], f"the page saw {seen}"
    assert not any("idempotency_key" in command for command in announced), "every page saw the actor's key"


def test_it_fails_at_once_when_no_local_agent_takes_commands(client, settings, db):
    settings.EMBEDDED = True
    _, token = make_operator()
    response = post(client, token, {"node": settings.NODE_NAME, "verb": "netns.create", "args": {"name": "nsmx"}})
    assert response.status_code == 409 and "not running" in response.json()["error"]
