"""Distributed mode as docs/distributed.md tells a new user to run it, from a clean clone.

The commands are read from the clone's docs/distributed.md (the blocks after the comment that
names this file) and run as written, in one bash, with four values of the settings block
replaced so that the run is isolated: the PostgreSQL role and database (``NSMAP_DB``, unique,
dropped after), ``NODE_NAME``, ``PORT`` (free) and ``REDIS_URL`` (a private redis-server on a
free port). The clone is `git clone` of this repository's committed HEAD; its ``.venv`` is a
symlink to this checkout's venv (``make setup`` must find it up to date, which the test checks
first, so the shared venv is never rebuilt). Then the test signs in over HTTP as the documented
user with the password the documented command printed, and sees the node online on
/api/v1/nodes/ and its namespaces on /api/v1/topology/ and on the WebSocket.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.distributed.harness import (
    PG_ADMIN_URL,
    REDIS_SERVER,
    PrivateRedis,
    Proc,
    Processes,
    free_port,
    wait_until,
)
from tests.kernel_topology import require_root

pytestmark = [pytest.mark.distributed]

REPO = Path(__file__).resolve().parents[2]
MARKER = "<!-- run by tests/distributed/test_dist_documented_path.py"
FENCE = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
# the settings the test replaces (everything else runs as written)
REPLACED = ("NSMAP_DB", "NODE_NAME", "PORT", "REDIS_URL")
# variables of the test's own environment that would leak into the documented shell
LEAKS = (
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "SECRET_KEY",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "ALLOWED_HOSTS",
    *REPLACED,
)


def documented_blocks(doc: Path) -> list[str]:
    """The shell blocks that follow the marker comment, in order."""
    text = doc.read_text()
    blocks = []
    for part in text.split(MARKER)[1:]:
        match = FENCE.search(part)
        assert match is not None, f"{doc}: no ```sh block after the marker comment"
        blocks.append(match.group(1))
    return blocks


def with_settings(block: str, values: dict[str, str]) -> str:
    """The settings block with each ``export NAME=...`` of ``values`` set to the test's value."""
    for name, value in values.items():
        pattern = re.compile(rf"^export {name}=.*?(?=\s+#|$)", re.M)
        found = pattern.findall(block)
        assert len(found) == 1, f"the settings block should set {name} once with `export {name}=`, found {found}"
        block = pattern.sub(lambda _m, n=name, v=value: f"export {n}={v}", block)
    return block


def logical_lines(text: str) -> list[str]:
    """Lines with backslash continuations joined (a command written over several lines is one)."""
    return re.sub(r"\\\n\s*", " ", text).splitlines()


def printed_after(log: str, marker: str) -> str | None:
    """The first non-empty line after the line containing ``marker`` (a value printed once)."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if marker in line:
            rest = [item.strip() for item in lines[index + 1 :] if item.strip()]
            return rest[0] if rest else None
    return None


def psql_as_postgres(sql: str) -> subprocess.CompletedProcess[str]:
    argv = ["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-Atc", sql]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, cwd="/")


def drop_role_and_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


class Browser:
    """A cookie-keeping HTTP client, as a browser signs in to the dashboard."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, bytes]:
        with self.opener.open(self.base + path, timeout=30) as resp:
            return resp.status, resp.geturl(), resp.read()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def sign_in(self, username: str, password: str) -> str:
        """Post the login form; returns the URL the browser ends on."""
        _, _, page = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None, "the login page has no CSRF token field"
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()}
        request = urllib.request.Request(
            self.base + "/login/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": self.base + "/login/"},
        )
        with self.opener.open(request, timeout=30) as resp:
            return resp.geturl()

    def json(self, path: str) -> Any:
        status, _, body = self.get(path)
        assert status == 200, f"GET {path}: HTTP {status}"
        return json.loads(body)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clean clone of the committed HEAD, its .venv a symlink to this checkout's venv."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False)
    if head.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout with a commit to clone: {head.stderr.strip()}")
    target = tmp_path / "nsmap"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True, timeout=120)
    venv = (REPO / ".venv").resolve()
    installed = venv / ".installed"
    assert installed.exists(), f"{venv} was not made by `make setup` (no .installed): run `make setup` first"
    (target / ".venv").symlink_to(venv)
    # a fresh checkout's files are newer than the venv: date the requirements back so that the
    # documented `make setup` finds the (shared) venv up to date instead of rebuilding it
    older = installed.stat().st_mtime - 60
    for name in ("requirements.txt", "requirements-dev.txt"):
        os.utime(target / name, (older, older))
    check = subprocess.run(["make", "-q", "setup"], cwd=target, capture_output=True, text=True, check=False)
    assert check.returncode == 0, f"`make setup` in the clone would rebuild the shared venv {venv}: {check.stdout}"
    return target


@pytest.fixture
def database() -> Iterator[str]:
    """A unique name for the role and database the documented step creates; both dropped after."""
    require_root()
    if shutil.which("runuser") is None or shutil.which("psql") is None:
        pytest.skip("the documented database step needs runuser and psql")
    probe = psql_as_postgres("select 1")
    if probe.returncode != 0:
        pytest.skip(f"no local PostgreSQL for `runuser -u postgres -- psql`: {probe.stderr.strip()}")
    name = f"nsmap_doc_{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        drop_role_and_database(name)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    registry = Processes(log_dir)
    try:
        yield registry
    finally:
        registry.close()


def run_documented_path(clone: Path, procs: Processes, values: dict[str, str]) -> Proc:
    settings, commands = documented_blocks(clone / "docs" / "distributed.md")
    script = clone.parent / "documented-path.sh"
    script.write_text(f"set -ex\ncd {clone}\n{with_settings(settings, values)}\n{commands}")
    return procs.add("documented-path", ["bash", str(script)], clean_env()).start()


def clean_env() -> dict[str, str]:
    """This process's environment without what would stand in for the documented settings."""
    return {k: v for k, v in os.environ.items() if k not in LEAKS and not k.startswith(("NSMAP_", "PYTEST_"))}


def test_it_runs_the_documented_commands_from_a_clean_clone_and_signs_in(
    database: str, clone: Path, procs: Processes
) -> None:
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"{REDIS_SERVER} is not installed")
    redis = PrivateRedis(procs).start()
    node, port = f"doc-{secrets.token_hex(3)}", free_port()
    shell = run_documented_path(
        clone, procs, {"NSMAP_DB": database, "NODE_NAME": node, "PORT": str(port), "REDIS_URL": redis.url}
    )

    password = wait_until(
        lambda: printed_after(shell.log(), "created user admin"), 120, "the password nsmap_user prints", procs, 0.2
    )
    browser = Browser(f"http://127.0.0.1:{port}")
    wait_until(lambda: browser.get("/login/")[0] == 200, 60, f"Daphne serving /login/ on port {port}", procs, 0.2)
    landed = browser.sign_in("admin", password)
    assert urllib.parse.urlsplit(landed).path == "/", f"signing in as admin with the printed password ended on {landed}"
    assert browser.cookie("sessionid"), "signed in, but no session cookie"

    def online() -> dict[str, Any] | None:
        data = browser.json("/api/v1/nodes/")
        rows = data["results"] if isinstance(data, dict) else data
        return next((n for n in rows if n.get("name") == node and n.get("state") == "online"), None)

    wait_until(online, 90, f"node {node} online on /api/v1/nodes/ (signed in as admin)", procs, 0.5)

    def with_namespaces() -> dict[str, Any] | None:
        graph = browser.json("/api/v1/topology/")
        return graph if any(n["host"] == node for n in graph["namespaces"]) else None

    graph = wait_until(with_namespaces, 60, f"{node}'s namespaces on /api/v1/topology/", procs, 0.5)
    roots = [n for n in graph["namespaces"] if n["host"] == node and n["kind"] == "root"]
    assert len(roots) == 1, f"expected {node}'s root namespace once on /api/v1/topology/, got {roots}"

    saved = clone / "var" / "nsmap.env"  # another shell goes on with `source var/nsmap.env`
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600, f"{saved} holds the secret key but is not private"
    other_shell = subprocess.run(
        ["bash", "-c", "source var/nsmap.env && .venv/bin/python manage.py nsmap_node list"],
        cwd=clone,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert other_shell.returncode == 0 and node in other_shell.stdout, (
        f"a shell with var/nsmap.env does not reach the same database: {other_shell.stdout}{other_shell.stderr}"
    )

    from websockets.sync.client import connect

    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.jar)
    with connect(
        f"ws://127.0.0.1:{port}/ws/topology/", additional_headers={"Cookie": cookies}, max_size=None, open_timeout=10
    ) as ws:
        first = json.loads(ws.recv(timeout=30))
    assert first["type"] == "graph", f"the WebSocket's first message is {first['type']!r}, not the graph"
    assert any(n["host"] == node for n in first["graph"]["namespaces"]), f"{node} is not in the WebSocket's graph"

    schedule = wait_until(
        lambda: sorted((clone / "var").glob("celerybeat-schedule*")), 30, "celery beat's schedule in var/", procs
    )
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout
    assert status == "", f"the documented path left files in the checkout (beat's schedule is {schedule}):\n{status}"
    procs.check_alive()  # the web server, worker, beat and the agent are still running


def test_it_serves_through_nsmap_serve_wherever_it_is_documented() -> None:
    """No shell block starts the bare daphne command: its one size limit caps what it sends (the
    first WebSocket message is the whole graph, 6.6 MB at 20 hosts), and it has none of
    nsmap_serve's limits (414, the inbound cap in Daphne, slow readers dropped)."""
    sources = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    lines = [
        (path.name, line)
        for path in sources
        for block in FENCE.findall(path.read_text())
        for line in logical_lines(block)
    ]
    bare = [f"{name}: {line.strip()}" for name, line in lines if re.search(r"(^|[\s/])daphne\s", line)]
    assert not bare, "documented commands start daphne without nsmap's limits:\n" + "\n".join(bare)
    assert any("manage.py nsmap_serve" in line for _, line in lines), "no documented command serves nsmap"


def test_it_reads_the_commands_from_the_docs() -> None:
    """The blocks this test runs exist and hold what the steps promise, so the docs cannot drift."""
    settings, commands = documented_blocks(REPO / "docs" / "distributed.md")
    with_settings(settings, dict.fromkeys(REPLACED, "x"))
    for name in ("SECRET_KEY", "DATABASE_URL", "NSMAP_DB_PASSWORD"):
        assert re.search(rf"^export {name}=", settings, re.M), f"the settings block does not set {name}"
    for step in ("make setup", "manage.py migrate", "manage.py nsmap_user admin --role admin", "nsmap_node add"):
        assert step in commands, f"the commands block lacks `{step}`"
    for part in ("manage.py nsmap_serve", "worker -Q ingest", "beat", "-m agent run"):
        assert part in commands, f"the commands block does not run {part}"
    assert "sudo" not in settings + commands, "the documented path uses sudo (Debian as root has none)"
    beat = next(line for line in logical_lines(commands) if "celery -A webui beat" in line)
    assert re.search(r"\s-s\s+var/", beat), f"celery beat keeps its schedule in the checkout: {beat}"


def test_it_fails_loudly_when_a_replaced_setting_is_not_in_the_docs() -> None:
    with pytest.raises(AssertionError, match="REDIS_URL"):
        with_settings("export PORT=8000\n", {"PORT": "1", "REDIS_URL": "redis://x"})


def test_it_reads_the_value_printed_after_its_announcement() -> None:
    log = "+ manage.py nsmap_user admin\ncreated user admin (role admin); shown once:\nS3cret\n+ next\n"
    assert printed_after(log, "created user admin") == "S3cret"
    assert printed_after(log, "created user bob") is None
