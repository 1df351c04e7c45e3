"""`manage.py nsmap_serve`, for real: Daphne in a subprocess serves static files, the API and the
WebSocket; with the local agent (root only), a veth made with `ip` reaches a WebSocket client."""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributed.harness import PYTHON, Processes, free_port, last_line, manage, wait_until
from tests.kernel_topology import Topology

REPO = Path(__file__).resolve().parents[2]


class Server:
    """``manage.py nsmap_serve`` as a harness Proc (its own process group, output in a log file);
    stopped with the test's Processes."""

    def __init__(self, tmp: Path, procs: Processes, agent: bool) -> None:
        self.port = free_port()
        self.node = f"srv-{secrets.token_hex(3)}"
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
        env.update(
            DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3",
            NSMAP_VAR_DIR=str(tmp / "var"),
            NODE_NAME=self.node,
            PORT=str(self.port),
            NSMAP_HEARTBEAT_SECONDS="1",
        )
        self.env = env
        manage(env, "migrate", "--no-input")
        self.token = last_line(manage(env, "nsmap_token", "tester"))
        argv = [PYTHON, "manage.py", "nsmap_serve"] + ([] if agent else ["--no-agent"])
        self.proc = procs.add("nsmap_serve", argv, env).start()
        self.base = f"http://127.0.0.1:{self.port}"
        wait_until(self.answers, 60, "nsmap_serve to answer", procs, interval=0.2, detail=self.output)

    def answers(self) -> bool:
        """True once it answers HTTP at all (connection errors are retried by wait_until)."""
        try:
            with urllib.request.urlopen(self.base + "/api/v1/nodes/", timeout=2):
                return True
        except urllib.error.HTTPError as exc:
            exc.close()
            return True  # 401: it answers

    def output(self) -> str:
        return self.proc.log()[-3000:]


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    procs = Processes(tmp_path)
    try:
        yield Server(tmp_path, procs, agent=getattr(request, "param", False))
    finally:
        procs.close()
        for proc in procs.procs:
            print(proc.log()[-5000:])  # shown when the test fails


def test_it_serves_static_files_api_and_websocket(server: Server) -> None:
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
@pytest.mark.parametrize("server", [True], indirect=True)
def test_it_shows_a_new_veth_live_with_the_local_agent(server: Server) -> None:
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
