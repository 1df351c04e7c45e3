"""`manage.py nsmap_serve`'s own limits, against the real Daphne: a URL over 16 KiB gets 414 (not
an empty reply), a WebSocket message over NSMAP_WS_MAX_INBOUND is refused by the server (1009)
before the application sees it, and a client that stops reading is dropped instead of having
everything sent to it buffered."""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.distributed.harness import EmbeddedServer, ingest_fake_snapshot, wait_until
from tests.webui.test_serve_embedded import server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.parametrize(
    "server", [{"NSMAP_WS_MAX_BUFFER": "65536", "NSMAP_WS_RESYNC_INTERVAL": "0"}], indirect=True
)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_it_answers_a_url_over_16_kib_with_414(server: EmbeddedServer) -> None:  # noqa: F811
    assert status_of(f"{server.base}/api/v1/nodes/?q={'x' * 15_000}") == 401  # under the limit: Django answers
    assert status_of(f"{server.base}/api/v1/nodes/?q={'x' * 20_000}") == 414


def test_it_refuses_a_websocket_message_over_the_inbound_limit(server: EmbeddedServer) -> None:  # noqa: F811
    answers: list[str] = []
    with connect(f"ws://127.0.0.1:{server.port}/ws/topology/?token={server.token}", max_size=None) as ws:
        assert '"type":"graph"' in str(ws.recv(timeout=10))
        ws.send('{"type": "ping", "pad": "' + "x" * 100_000 + '"}')
        with pytest.raises(ConnectionClosed):  # autobahn fails the connection (1009, by dropping it)
            while True:
                answers.append(str(ws.recv(timeout=10)))
    assert not any('"pong"' in a for a in answers), "a message over the limit reached the application"


def test_it_drops_a_client_that_stops_reading(server: EmbeddedServer) -> None:  # noqa: F811
    assert "applied" in ingest_fake_snapshot(server.env, server.node, 300)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # max_queue=1: the client stops taking frames off the socket once one message waits unread
    received = 0
    url = f"ws://127.0.0.1:{server.port}/ws/topology/?token={server.token}"
    with contextlib.suppress(ConnectionClosed), connect(url, sock=sock, max_queue=1) as ws:
        with contextlib.suppress(ConnectionClosed):  # dropped while still sending: what is wanted
            for _ in range(200):
                ws.send('{"type": "resync"}')  # each answered with a graph of about 300 KB
                time.sleep(0.01)
        dropped = lambda: "client stopped reading" in server.output()  # noqa: E731
        wait_until(dropped, 60, "the server to drop the socket", detail=server.output)
        with contextlib.suppress(ConnectionClosed):  # a TimeoutError instead: still connected
            while True:
                received += len(ws.recv(timeout=30))
    assert received < 100 * 300_000, f"{received} bytes were delivered: the server buffered everything"
