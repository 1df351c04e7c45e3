"""What one viewer can make the server do is bounded: a message over NSMAP_WS_MAX_INBOUND closes
the socket (1009), a deeply nested one gets an error instead of a crash, asks for the whole
graph are merged to one per NSMAP_WS_RESYNC_INTERVAL, and a user opens at most
NSMAP_WS_MAX_PER_USER sockets per server process."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from tests.webui.ws_support import close_code, open_socket
from webui.asgi import application
from webui.live.consumers import CLOSE_TOO_BIG, CLOSE_TOO_MANY

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_closes_a_socket_that_sends_more_than_the_limit(api_token: str, settings: Any) -> None:
    settings.NSMAP_WS_MAX_INBOUND = 65536

    async def scenario() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}")
        await comm.send_to(text_data='{"type": "ping", "pad": "' + "x" * 65536 + '"}')
        assert await close_code(comm, within=5, skip_frames=False) == CLOSE_TOO_BIG
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_answers_deeply_nested_json_with_an_error_and_stays_open(api_token: str) -> None:
    async def scenario() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}")
        await comm.send_to(text_data="[" * 30_000 + "]" * 30_000)
        answer = await comm.receive_json_from(timeout=5)
        assert answer["type"] == "error", answer
        await comm.send_json_to({"type": "ping"})
        assert (await comm.receive_json_from(timeout=5))["type"] == "pong"
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_merges_resyncs_to_one_graph_per_interval(api_token: str, settings: Any) -> None:
    settings.NSMAP_WS_RESYNC_INTERVAL = 0.5

    async def scenario() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}")
        for _ in range(20):
            await comm.send_json_to({"type": "resync"})
        assert (await comm.receive_json_from(timeout=5))["type"] == "graph"
        assert (await comm.receive_json_from(timeout=5))["type"] == "graph", "the merged resync never came"
        assert await comm.receive_nothing(timeout=1.0), "more than two graphs for twenty resyncs within a second"
        await comm.disconnect()

    async_to_sync(scenario)()


def test_it_caps_the_sockets_of_one_user(api_token: str, settings: Any) -> None:
    settings.NSMAP_WS_MAX_PER_USER = 2

    async def scenario() -> None:
        path = f"/ws/topology/?token={api_token}"
        first, second = await open_socket(path), await open_socket(path)
        third = WebsocketCommunicator(application, path)
        connected, code = await third.connect(timeout=5)
        assert not connected and code == CLOSE_TOO_MANY, "a third socket was accepted"
        await third.disconnect()
        await first.disconnect()
        again = await open_socket(path)  # a closed socket frees its place
        for comm in (second, again):
            await comm.disconnect()

    async_to_sync(scenario)()
