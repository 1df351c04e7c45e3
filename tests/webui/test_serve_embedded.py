"""`manage.py nsmap_serve`, for real: Daphne in a subprocess serves static files, the API and the
WebSocket; with the local agent (root only), a veth made with `ip` reaches a WebSocket client."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributed.harness import EmbeddedServer, Processes
from tests.kernel_topology import Topology

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[EmbeddedServer]:
    """Without the agent unless a test's parameter says ``{"agent": True}``; the other keys of the
    parameter are environment variables for the server."""
    procs = Processes(tmp_path)
    options = {"agent": False, "NSMAP_HEARTBEAT_SECONDS": "1", **getattr(request, "param", {})}
    try:
        yield EmbeddedServer(tmp_path, procs, **options)
    finally:
        procs.close()
        for proc in procs.procs:
            print(proc.log()[-5000:])  # shown when the test fails


def test_it_serves_static_files_api_and_websocket(server: EmbeddedServer) -> None:
    from websockets.sync.client import connect

    static = sorted(p for p in (REPO / "static").rglob("*") if p.is_file())
    if static:
        path = "/static/" + static[0].relative_to(REPO / "static").as_posix()
        with urllib.request.urlopen(server.base + path, timeout=5) as resp:
            assert resp.status == 200 and resp.read() == static[0].read_bytes()
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(server.base + "/api/v1/topology/", timeout=5)
    assert anonymous.value.code == 401
    request = urllib.request.Request(
        server.base + "/api/v1/nodes/", headers={"Authorization": f"Bearer {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert json.loads(resp.read())["results"] == []
    with connect(f"ws://127.0.0.1:{server.port}/ws/topology/?token={server.token}", max_size=None) as ws:
        first = json.loads(ws.recv(timeout=10))
        assert first["type"] == "graph" and first["graph"]["hosts"] == []


@pytest.mark.kernel
def test_it_keeps_its_files_in_the_var_dir_it_is_given(server: EmbeddedServer, tmp_path: Path) -> None:
    """Not the checkout's var/: a server started without NSMAP_VAR_DIR wrote its secret key there
    and made it owner-only (bench/latency.py did)."""
    var = tmp_path / "var"
    assert (var / "secret_key").is_file(), f"no secret key in {var}: NSMAP_VAR_DIR={server.env.get('NSMAP_VAR_DIR')}"
    assert var.stat().st_mode & 0o777 == 0o700, f"{var} is {oct(var.stat().st_mode & 0o777)}, not owner-only"


@pytest.mark.parametrize("server", [{"agent": True}], indirect=True)
def test_it_shows_a_new_veth_live_with_the_local_agent(server: EmbeddedServer) -> None:
    if os.geteuid() != 0:
        pytest.skip("the local agent needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)")
    from websockets.sync.client import connect

    with (
        Topology() as topo,
        connect(f"ws://127.0.0.1:{server.port}/ws/topology/?token={server.token}", max_size=None) as ws,
    ):
        a, b = topo.name("a"), topo.name("b")
        deadline = time.monotonic() + 60
        graph = json.loads(ws.recv(timeout=30))
        while not graph["graph"]["hosts"] and time.monotonic() < deadline:  # the first snapshot
            message = json.loads(ws.recv(timeout=30))
            if message["type"] == "patch" and message["upsert"]["hosts"]:
                break
        topo.veth(a, topo.root, b, topo.root)
        seen: dict[str, dict] = {}
        while len(seen) < 2 and time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=30))
            if message["type"] == "patch":
                for item in message["upsert"]["interfaces"]:
                    if item["name"] in (a, b):
                        seen[item["name"]] = item
        assert set(seen) == {a, b}, server.output()
        assert seen[a]["host"] == server.node
