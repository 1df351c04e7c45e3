"""A WebSocket opened with the session cookie is only honoured from this server's own page:
the Origin must match the request's scheme, host and port (or be a trusted origin), whatever
ALLOWED_HOSTS allows."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from tests.webui.test_settings_env import REPO
from tests.webui.ws_support import session_cookie
from webui.asgi import application
from webui.live.consumers import CLOSE_UNAUTHENTICATED

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cookie(client: Any, viewer: Any) -> bytes:
    return session_cookie(client, viewer)


def opens(cookie: bytes, host: str, origin: str, scheme: str = "ws") -> bool:
    async def scenario() -> bool:
        headers = [(b"cookie", cookie), (b"host", host.encode()), (b"origin", origin.encode())]
        comm = WebsocketCommunicator(application, "/ws/topology/", headers=headers)
        comm.scope["scheme"] = scheme
        connected, code = await comm.connect(timeout=5)
        if connected:
            assert (await comm.receive_json_from(timeout=5))["type"] == "graph"
        else:
            assert code == CLOSE_UNAUTHENTICATED
        await comm.disconnect()
        return connected

    return async_to_sync(scenario)()


@pytest.mark.parametrize(
    ("host", "origin", "scheme"),
    [
        ("localhost:8000", "http://localhost:8000", "ws"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000", "ws"),
        ("localhost", "http://localhost:80", "ws"),
        ("localhost:8443", "https://localhost:8443", "wss"),
    ],
)
def test_it_accepts_the_servers_own_origin(cookie, host, origin, scheme) -> None:
    assert opens(cookie, host, origin, scheme), f"own origin {origin} refused"


@pytest.mark.parametrize(
    ("host", "origin", "scheme"),
    [
        ("localhost:8000", "http://localhost:9999", "ws"),  # another port: another site
        ("localhost:8000", "https://localhost:8000", "ws"),  # another scheme
        ("localhost:8443", "http://localhost:8443", "wss"),
        ("localhost:8000", "http://127.0.0.1:8000", "ws"),  # another host
        ("localhost:8000", "null", "ws"),
        ("localhost:8000", "file://localhost:8000", "ws"),
        ("evil.example:8000", "http://evil.example:8000", "ws"),  # not an allowed host
    ],
)
def test_it_refuses_any_other_origin(cookie, host, origin, scheme) -> None:
    assert not opens(cookie, host, origin, scheme), f"origin {origin} on {host} was accepted"


def test_it_refuses_other_origins_even_when_every_host_is_allowed(cookie, settings) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    assert not opens(cookie, "nsmap.example:8000", "https://evil.example")
    assert not opens(cookie, "nsmap.example:8000", "http://nsmap.example:9999")
    assert opens(cookie, "nsmap.example:8000", "http://nsmap.example:8000")


def test_it_accepts_a_trusted_origin_behind_a_proxy(cookie, settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://nsmap.example"]
    assert opens(cookie, "127.0.0.1:8000", "https://nsmap.example:443")
    assert not opens(cookie, "127.0.0.1:8000", "https://nsmap.example:8443")


def test_it_has_no_testserver_in_the_default_allowed_hosts(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "webui.settings", "NSMAP_VAR_DIR": str(tmp_path)}
    code = "import django; django.setup(); from django.conf import settings; print(settings.ALLOWED_HOSTS)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert "testserver" not in out.stdout, out.stdout
