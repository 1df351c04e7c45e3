"""Embedded mode: the local agent ingests in its own thread; the patch must still reach a
WebSocket client whose in-memory channel layer lives on the ASGI event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from agent.commands import COMMAND_TASK
from tests.factories import FakeAgent, make_inventory
from webui.asgi import application
from webui.live import embedded
from webui.topology.ingest import ingest

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_delivers_a_patch_ingested_in_the_agent_thread(api_token: str, local_agent: FakeAgent, settings) -> None:
    assert settings.EMBEDDED
    results: list[Any] = []

    def agent_thread() -> None:  # what agent.publisher's thread does through CallableTransport
        from django.db import connection

        try:
            results.append(ingest(*local_agent.snapshot(make_inventory(local_agent.node, namespaces=3)), trusted=True))
        finally:
            connection.close()

    async def scenario() -> None:
        comm = WebsocketCommunicator(application, f"/ws/topology/?token={api_token}")
        assert (await comm.connect(timeout=5))[0]
        graph = await comm.receive_json_from(timeout=5)
        assert embedded.server_loop() is asyncio.get_running_loop()
        thread = threading.Thread(target=agent_thread, name="nsmap-publisher")
        thread.start()
        patch = await comm.receive_json_from(timeout=10)
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        assert results[0].status == "applied"
        assert patch["type"] == "patch" and patch["seq"] == graph["seq"] + 1
        assert {n["host"] for n in patch["upsert"]["namespaces"]} == {local_agent.node}
        assert len(patch["upsert"]["interfaces"]) == 11
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_hands_resync_commands_to_the_local_agent(db: Any, local_agent: FakeAgent) -> None:
    received: list[str] = []
    embedded.register(COMMAND_TASK, received.append)
    try:
        ingest(*local_agent.snapshot(make_inventory(local_agent.node, 1)), trusted=True)
        local_agent.seq += 3
        from django.db import transaction

        with transaction.atomic():
            result = ingest(*local_agent.heartbeat(), trusted=True)
        assert result.status == "resync"
        assert len(received) == 1 and '"command": "resync"' in received[0]
    finally:
        embedded.register(COMMAND_TASK, None)
