"""WebSocket /ws/topology/: authenticated clients get the graph, then patches in order without
gaps; a client asking for a resync gets the graph again; anonymous clients are refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from tests.factories import FIRST_INODE, FakeAgent, make_inventory, remove
from tests.webui.ws_support import open_socket, session_cookie
from webui.asgi import application
from webui.live.consumers import CLOSE_UNAUTHENTICATED
from webui.topology.ingest import ingest

pytestmark = pytest.mark.django_db(transaction=True)


def run(coro_fn: Any) -> Any:
    return async_to_sync(coro_fn)()


def test_it_sends_the_graph_then_numbered_patches(api_token: str, agent: FakeAgent) -> None:
    async def scenario() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}", read_graph=False)
        first = await comm.receive_json_from(timeout=5)
        assert first["type"] == "graph" and first["graph"]["seq"] == first["seq"]
        assert first["graph"]["namespaces"] == []
        result = await database_sync_to_async(ingest)(*agent.snapshot(make_inventory("h1", namespaces=2)))
        patch = await comm.receive_json_from(timeout=5)
        assert patch["type"] == "patch" and patch["seq"] == first["seq"] + 1 == result.graph_seq
        assert len(patch["upsert"]["namespaces"]) == 3 and len(patch["upsert"]["interfaces"]) == 8
        assert patch["upsert"]["hosts"][0]["state"] == "online"
        await database_sync_to_async(ingest)(*agent.delta([remove("interface", f"if:{FIRST_INODE}:1")]))
        second = await comm.receive_json_from(timeout=5)
        assert second["seq"] == patch["seq"] + 1
        assert second["remove"]["interfaces"] == [f"h1/if:{FIRST_INODE}:1"]
        await comm.send_json_to({"type": "resync"})
        again = await comm.receive_json_from(timeout=5)
        assert again["type"] == "graph" and again["seq"] == second["seq"]
        assert len(again["graph"]["interfaces"]) == 7
        await comm.disconnect()

    run(scenario)


def test_it_refuses_anonymous_and_bad_tokens(db: Any) -> None:
    async def scenario() -> None:
        for path in ("/ws/topology/", "/ws/topology/?token=nsm_wrong"):
            comm = WebsocketCommunicator(application, path)
            connected, code = await comm.connect(timeout=5)
            assert not connected and code == CLOSE_UNAUTHENTICATED
            await comm.disconnect()

    run(scenario)


def test_it_accepts_a_bearer_header_and_a_session_cookie(api_token: str, client: Any, viewer: Any) -> None:
    cookie = session_cookie(client, viewer)

    async def scenario() -> None:
        same_site = [(b"cookie", cookie), (b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
        for headers in ([(b"authorization", f"Bearer {api_token}".encode())], [(b"cookie", cookie)], same_site):
            comm = await open_socket("/ws/topology/", headers)
            await comm.disconnect()
        # another site's page cannot use the session cookie
        comm = WebsocketCommunicator(
            application, "/ws/topology/", headers=[(b"cookie", cookie), (b"origin", b"https://evil.example")]
        )
        connected, code = await comm.connect(timeout=5)
        assert not connected and code == CLOSE_UNAUTHENTICATED
        await comm.disconnect()

    run(scenario)


def _text(seq: int) -> str:
    return json.dumps({"type": "patch", "seq": seq, "upsert": {}, "remove": {}})


def test_it_reorders_patches_and_drops_those_already_in_the_graph(api_token: str) -> None:
    async def scenario() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}", read_graph=False)
        seq = (await comm.receive_json_from(timeout=5))["seq"]
        layer = get_channel_layer()
        for s in (seq, seq + 2, seq + 1, seq + 3):
            await layer.group_send("topology", {"type": "topology.patch", "seq": s, "text": _text(s)})
        got = [(await comm.receive_json_from(timeout=5))["seq"] for _ in range(3)]
        assert got == [seq + 1, seq + 2, seq + 3]
        await comm.disconnect()

    run(scenario)


def test_it_sends_the_graph_again_when_a_patch_never_arrives(api_token: str) -> None:
    async def scenario() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}", read_graph=False)
        seq = (await comm.receive_json_from(timeout=5))["seq"]
        layer = get_channel_layer()
        await layer.group_send("topology", {"type": "topology.patch", "seq": seq + 2, "text": _text(seq + 2)})
        message = await comm.receive_json_from(timeout=5)
        assert message["type"] == "graph"
        await comm.disconnect()

    run(scenario)


def test_it_answers_a_ping_and_explains_an_unknown_message(api_token: str) -> None:
    async def scenario() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}", read_graph=False)
        await comm.receive_json_from(timeout=5)
        await comm.send_json_to({"type": "ping"})
        assert (await comm.receive_json_from(timeout=5))["type"] == "pong"
        await comm.send_to(text_data="not json")
        assert (await comm.receive_json_from(timeout=5))["type"] == "error"
        await asyncio.sleep(0)
        await comm.disconnect()

    run(scenario)
