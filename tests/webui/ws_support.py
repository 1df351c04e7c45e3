"""WebSocket clients for the /ws/topology/ tests: one way to open a socket, to read the code it
closed with, and to get a user's session cookie, so that every module opens its sockets alike."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from webui.asgi import application


def session_cookie(client: Client, user: User) -> bytes:
    """The ``cookie`` header value of ``user`` signed in through ``client``."""
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(
    path: str, headers: list[tuple[bytes, bytes]] | None = None, *, read_graph: bool = True
) -> WebsocketCommunicator:
    """A socket the server accepted; its first frame, the graph, read and checked unless
    ``read_graph`` is False (the test looks at that frame itself)."""
    comm = WebsocketCommunicator(application, path, headers=headers or [])
    connected, code = await comm.connect(timeout=5)
    assert connected, f"the server refused the socket {path} (close {code})"
    if read_graph:
        first = await comm.receive_json_from(timeout=5)
        assert first["type"] == "graph", f"the first frame is no graph: {first}"
    return comm


async def close_code(comm: WebsocketCommunicator, within: float = 1.0, *, skip_frames: bool = True) -> int:
    """The close code the server sends within ``within`` seconds; frames before it are skipped,
    or with ``skip_frames=False`` fail the test (the close must come next)."""
    while True:
        output = await comm.receive_output(timeout=within)
        if output["type"] == "websocket.close":
            return int(output.get("code", 1000))
        assert skip_frames, f"a frame came instead of the close: {output}"
