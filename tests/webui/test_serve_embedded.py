"""`manage.py nsmap_serve`, for real: Daphne in a subprocess serves static files, the API and the
WebSocket; with the local agent (root only), a veth made with `ip` reaches a WebSocket client."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, agent: bool) -> None:
        self.port = _free_port()
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
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--no-input"], cwd=REPO, env=env, check=True, capture_output=True)
        out = subprocess.run([*manage, "nsmap_token", "tester"], cwd=REPO, env=env, check=True, capture_output=True)
        self.token = out.stdout.decode().strip().splitlines()[-1]
        self.log = open(tmp / "serve.log", "wb")  # noqa: SIM115 - closed in stop()
        args = [*manage, "nsmap_serve"] + ([] if agent else ["--no-agent"])
        self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                urllib.request.urlopen(self.base + "/api/v1/nodes/", timeout=2)
            except urllib.error.HTTPError:
                return  # 401: it answers
            except OSError:
                time.sleep(0.2)
        raise AssertionError("nsmap_serve did not answer:\n" + self.output())

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    srv = Server(tmp_path, agent=getattr(request, "param", False))
    yield srv
    srv.stop()
    print(Path(srv.log.name).read_text(errors="replace")[-5000:])  # shown when the test fails


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

    name = f"nsw{secrets.token_hex(3)}"
    with connect(f"ws://127.0.0.1:{server.port}/ws/topology/?token={server.token}", max_size=None) as ws:
        deadline = time.monotonic() + 60
        graph = json.loads(ws.recv(timeout=30))
        while not graph["graph"]["hosts"] and time.monotonic() < deadline:  # the first snapshot
            message = json.loads(ws.recv(timeout=30))
            if message["type"] == "patch" and message["upsert"]["hosts"]:
                break
        subprocess.run(["ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b"], check=True)
        try:
            seen: dict[str, dict] = {}
            while len(seen) < 2 and time.monotonic() < deadline:
                message = json.loads(ws.recv(timeout=30))
                if message["type"] == "patch":
                    for item in message["upsert"]["interfaces"]:
                        if item["name"] in (name + "a", name + "b"):
                            seen[item["name"]] = item
            assert set(seen) == {name + "a", name + "b"}, server.output()
            assert seen[name + "a"]["host"] == server.node
        finally:
            subprocess.run(["ip", "link", "del", name + "a"], check=False)
