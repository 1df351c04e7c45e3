"""The consumer's hot path: a patch or a command update goes to the socket without channels'
per-message hop to the sync thread (``aclose_old_connections``), which, once per message per
socket, queued 50 sockets' patches behind each other (bench/load.py); every other message still
goes through channels' dispatch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels import consumer as channels_consumer
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from webui.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_sends_patches_and_command_updates_without_the_database_hop(api_token: str, monkeypatch) -> None:
    hops: list[str] = []
    original = channels_consumer.aclose_old_connections

    async def counted() -> Any:
        hops.append("hop")
        return await original()

    monkeypatch.setattr(channels_consumer, "aclose_old_connections", counted)

    async def scenario() -> list[int]:
        comm = WebsocketCommunicator(application, f"/ws/topology/?token={api_token}")
        assert (await comm.connect(timeout=5))[0]
        seq = (await comm.receive_json_from(timeout=5))["seq"]
        layer = get_channel_layer()
        counts = [len(hops)]
        for s in range(seq + 1, seq + 4):
            text = json.dumps({"type": "patch", "seq": s, "upsert": {}, "remove": {}})
            await layer.group_send("topology", {"type": "topology.patch", "seq": s, "text": text})
            assert (await comm.receive_json_from(timeout=5))["seq"] == s
        command = json.dumps({"type": "command", "command": {"id": "c1", "status": "running"}})
        await layer.group_send("topology", {"type": "topology.command", "text": command})
        assert (await comm.receive_json_from(timeout=5))["type"] == "command"
        counts.append(len(hops))
        await comm.send_json_to({"type": "ping"})  # a client's message: channels' own dispatch
        assert (await comm.receive_json_from(timeout=5))["type"] == "pong"
        counts.append(len(hops))
        await comm.disconnect()
        return counts

    before, after_hot, after_ping = async_to_sync(scenario)()
    assert after_hot == before, f"{after_hot - before} database hops for 3 patches and a command update"
    assert after_ping > after_hot, "a client's message no longer went through channels' dispatch"
