"""Run nsmap in distributed mode for real: PostgreSQL, Redis, Daphne, a Celery worker, agents.

Used by tests/distributed/conftest.py and bench/latency.py. Every process is started in its own
session (process group) with its output in a log file; ``Processes.close()`` kills each group by
its id, and ``Processes.report()`` gives the tails of the logs for a failing test's report.

Isolation on a shared machine:
- PostgreSQL: one database ``nsmap_test_<hex>`` per session, dropped at the end.
- Redis: the machine's 127.0.0.1:6379 with a DB number nobody uses (claimed with a key), flushed
  at the end; a test that stops Redis runs its own ``redis-server`` on a free port instead.
- Node names ``dist-<hex>``: unique per test, so every test reads only its own node's state.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(Path(sys.executable))
PG_ADMIN_URL = os.environ.get("NSMAP_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SHARED_REDIS = os.environ.get("NSMAP_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_SERVER = os.environ.get("NSMAP_REDIS_SERVER", "/usr/bin/redis-server")
CLAIM_KEY = "nsmap:test:claim"
ARRIVAL = 60  # seconds a kernel change may take to reach a WebSocket (generous: shared, busy hosts)
VISIBILITY_TIMEOUT = 3  # seconds: unacked Celery messages come back this fast in tests
# Daphne refuses to send a WebSocket message over 1 MiB by default; the graph of a host with a few
# hundred namespaces is bigger (about 3 KB per namespace). bench/ui.py's bare Daphne lifts it.
WS_MAX_BYTES = 64 * 1024 * 1024

T = TypeVar("T")


class HarnessError(AssertionError):
    """Something of the distributed setup broke; the message says what, with log tails."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


# -- processes -----------------------------------------------------------------------------------


@dataclass
class Proc:
    """One child process in its own process group, output appended to ``log_path``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    expect_alive: bool = True
    starts: int = 0

    def start(self) -> Proc:
        if self.alive():
            raise HarnessError(f"{self.name} is already running (pid {self.pid})")
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.expect_alive = True
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process group this process leads (its children too)."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL the group and reap the leader (a crash, as a fault test wants it)."""
        self.expect_alive = False
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; always ends with the group killed."""
        self.expect_alive = False
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal(signal.SIGKILL)  # stragglers of the group (prefork children)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def status(self) -> str:
        if self.popen is None:
            return f"{self.name}: never started"
        code = self.popen.poll()
        return f"{self.name} (pid {self.popen.pid}): " + ("running" if code is None else f"exited with {code}")


class Processes:
    """Every process a test started; ``close()`` kills them all, ``report()`` shows their logs."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[Proc] = []

    def add(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, argv, env, self.log_dir / f"{name}.log")
        self.procs.append(proc)
        return proc

    def check_alive(self) -> None:
        """Raise, naming the process and its last lines, when one that should run has died."""
        for proc in self.procs:
            if proc.expect_alive and proc.popen is not None and not proc.alive():
                raise HarnessError(f"{proc.status()}\n--- last lines of {proc.log_path}:\n{proc.tail(40)}")

    def report(self, lines: int = 80) -> list[tuple[str, str]]:
        return [(f"{p.status()} — {p.log_path}", p.tail(lines)) for p in self.procs]

    def close(self) -> None:
        for proc in reversed(self.procs):
            try:
                proc.stop(timeout=5)
            except Exception as exc:  # teardown goes on for the others
                print(f"harness: stopping {proc.name} failed: {exc!r}", file=sys.stderr)


def wait_until(
    check: Callable[[], T],
    timeout: float,
    what: str,
    procs: Processes | None = None,
    interval: float = 0.05,
    detail: Callable[[], str] | None = None,
) -> T:
    """Poll ``check`` until it returns something truthy; fail early when a process died."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        if procs is not None:
            procs.check_alive()
        try:
            result = check()
            if result:
                return result
        except HarnessError:
            raise
        except Exception as exc:  # the service may not be up yet
            last_exc = exc
        if time.monotonic() > deadline:
            extra = f"; last error: {last_exc!r}" if last_exc else ""
            more = f"\n{detail()}" if detail else ""
            status = "\n".join(p.status() for p in procs.procs) if procs else ""
            raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what}{extra}{more}\n{status}")
        time.sleep(interval)


# -- PostgreSQL and Redis --------------------------------------------------------------------------


def create_database() -> tuple[str, str]:
    """A fresh PostgreSQL database; returns (name, DATABASE_URL)."""
    import psycopg

    name = f"nsmap_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@functools.cache
def redis_client(url: str) -> Any:
    """One client per URL, shared by every caller (tests poll with it every few milliseconds);
    its connection pool reconnects by itself after a Redis restart. Never close it."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def claim_redis_db(owner: str = "") -> str:
    """A DB number of the shared Redis that is empty, claimed with a key; returns its URL."""
    base = SHARED_REDIS
    client = redis_client(f"{base}/0")
    databases = int(client.config_get("databases").get("databases", 16))
    owner = owner or f"pid {os.getpid()} {time.strftime('%H:%M:%S')}"
    for db in range(databases - 1, 0, -1):  # high numbers first: DB 0 is everyone's default
        c = redis_client(f"{base}/{db}")
        if c.dbsize() == 0 and c.set(CLAIM_KEY, owner, nx=True, ex=6 * 3600):
            return f"{base}/{db}"
    raise HarnessError(f"no empty Redis DB left on {base} (all {databases} hold keys)")


def reset_redis_db(url: str) -> None:
    """Empty our claimed DB between tests (only ours: FLUSHDB acts on the URL's DB number)."""
    c = redis_client(url)
    owner = c.get(CLAIM_KEY) or b"nsmap test"
    c.flushdb()
    c.set(CLAIM_KEY, owner, ex=6 * 3600)


def release_redis_db(url: str) -> None:
    redis_client(url).flushdb()


class PrivateRedis:
    """A redis-server of our own on a free port (for tests that stop or restart Redis)."""

    def __init__(self, procs: Processes) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--daemonize", "no", "--dir", str(procs.log_dir)]
        self.proc = procs.add(f"redis-{self.port}", argv, dict(os.environ))

    def start(self) -> PrivateRedis:
        """Start it (again, empty, on the same port) and wait for PING; one that does not answer
        in time, or exits, is killed before the error is raised."""
        self.proc.start()
        try:
            wait_until(self._answers, 10, f"redis-server on port {self.port}", detail=self.proc.tail)
        except BaseException:
            self.proc.kill()
            raise
        return self

    def _answers(self) -> bool:
        if not self.proc.alive():
            raise HarnessError(f"{self.proc.status()}\n--- last lines of {self.proc.log_path}:\n{self.proc.tail(40)}")
        return bool(redis_client(self.url).ping())

    def stop(self) -> None:
        """Stop it the hard way (no SHUTDOWN SAVE): everything in it is gone."""
        self.proc.kill()


# -- the REST API and the WebSocket ------------------------------------------------------------------


@dataclass
class Api:
    """A Bearer-token client for the REST API of one Daphne."""

    base: str
    token: str

    def get(self, path: str, params: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            body = exc.read()[:500].decode(errors="replace")
            raise HarnessError(f"GET {url}: HTTP {exc.code}: {body}") from exc

    def post(self, path: str, body: Any, timeout: float = 30) -> tuple[int, Any]:
        """POST ``body`` as JSON; (status, decoded answer) for every status (a test asserts on it)."""
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw[:500].decode(errors="replace")

    def topology(self) -> dict[str, Any]:
        return self.get("/api/v1/topology/")

    def nodes(self) -> list[dict[str, Any]]:
        data = self.get("/api/v1/nodes/")
        return data["results"] if isinstance(data, dict) and "results" in data else data

    def node(self, name: str) -> dict[str, Any] | None:
        for node in self.nodes():
            if node.get("name") == name or node.get("id") == name:
                return node
        return None

    def changes(self, node: str, page_size: int = 1000) -> list[dict[str, Any]]:
        """The node's whole change log, oldest first (the API pages newest first)."""
        out: list[dict[str, Any]] = []
        data = self.get("/api/v1/changes/", {"node": node, "page_size": page_size})
        seen_pages = 0
        while True:
            out.extend(data["results"])
            seen_pages += 1
            nxt = data.get("next")
            if not nxt or seen_pages > 10_000:
                break
            parsed = urllib.parse.urlsplit(nxt)
            data = self.get(parsed.path + "?" + parsed.query if parsed.query else parsed.path)
        if len(out) != data.get("count", len(out)):
            # the log grew while we paged: not a loss, read again
            return self.changes(node, page_size)
        if all("graph_seq" in r for r in out):  # the patch that published it, then its place in it
            return sorted(out, key=lambda r: (r["graph_seq"], r.get("position", 0), r["id"]))
        return sorted(out, key=lambda r: r["id"])  # one worker in the tests: ids follow commit order


@dataclass
class LiveGraph:
    """What one browser shows: the graph from the WebSocket, patched in order.

    A reader thread applies messages as they arrive and stamps them with ``time.perf_counter()``;
    on a gap it asks for a resync as the contract says; when the socket closes it reconnects
    and starts over from the new graph.
    """

    url: str
    token: str
    seq: int | None = None
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    namespaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    interfaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    graphs: int = 0
    patches: int = 0
    gaps: int = 0
    connects: int = 0
    closed_reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)  # (host, ifname) -> t
    watchers: list[Callable[[dict[str, Any], float], None]] = field(default_factory=list)
    procs: Processes | None = None  # checked while waiting: a dead server process fails at once

    def __post_init__(self) -> None:
        self.lock = threading.Condition()
        self._stop = threading.Event()
        self._ws: Any = None
        self._thread = threading.Thread(target=self._run, name="nsmap-ws", daemon=True)

    def start(self, timeout: float = 15) -> LiveGraph:
        self._thread.start()
        self.wait(lambda: self.graphs > 0, timeout, "the first graph message on the WebSocket")
        return self

    def close(self) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LiveGraph:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        from websockets.sync.client import connect

        while not self._stop.is_set():
            try:
                with connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    max_size=None,
                    open_timeout=10,
                    close_timeout=2,
                ) as ws:
                    self._ws = ws
                    with self.lock:
                        self.connects += 1
                    for raw in ws:
                        now = time.perf_counter()
                        self._handle(json.loads(raw), now, ws)
            except Exception as exc:
                with self.lock:
                    self.closed_reasons.append(repr(exc)[:300])
                    self.lock.notify_all()
            self._ws = None
            self._stop.wait(0.5)

    def _handle(self, msg: dict[str, Any], now: float, ws: Any) -> None:
        with self.lock:
            kind = msg.get("type")
            if kind == "graph":
                graph = msg.get("graph") or {}
                self.seq = msg.get("seq", graph.get("seq"))
                self.hosts = {h["id"]: h for h in graph.get("hosts", [])}
                self.namespaces = {n["id"]: n for n in graph.get("namespaces", [])}
                self.interfaces = {}
                self.graphs += 1
                self._upsert_interfaces(graph.get("interfaces", []), now)
            elif kind == "patch":
                seq = msg.get("seq")
                if self.seq is not None and seq is not None and seq != self.seq + 1:
                    if seq <= self.seq:
                        return  # an old patch: already in the graph we have
                    self.gaps += 1
                    ws.send(json.dumps({"type": "resync"}))
                    self.seq = None  # wait for the graph; ignore patches until then
                    return
                if self.seq is None and self.graphs and self.gaps:
                    return
                self.seq = seq
                self.patches += 1
                upsert = msg.get("upsert") or {}
                remove = msg.get("remove") or {}
                for h in upsert.get("hosts", []):
                    self.hosts[h["id"]] = h
                for n in upsert.get("namespaces", []):
                    self.namespaces[n["id"]] = n
                self._upsert_interfaces(upsert.get("interfaces", []), now)
                for i in remove.get("interfaces", []):
                    self.interfaces.pop(i, None)
                for n in remove.get("namespaces", []):
                    self.namespaces.pop(n, None)
            else:
                self.errors.append(f"unexpected message type {kind!r}: {str(msg)[:200]}")
            self.lock.notify_all()
        for watcher in self.watchers:
            watcher(msg, now)

    def _upsert_interfaces(self, interfaces: Iterable[dict[str, Any]], now: float) -> None:
        for i in interfaces:
            self.interfaces[i["id"]] = i
            self.first_seen.setdefault((i.get("host", ""), i.get("name", "")), now)

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wait (under the lock) until ``predicate()`` is truthy."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                result = predicate()
                if result:
                    return result
                if self.procs is not None:
                    self.procs.check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(
                        f"WebSocket {self.url}: timed out after {timeout:.0f} s waiting for {what} "
                        f"(graphs {self.graphs}, patches {self.patches}, gaps {self.gaps}, "
                        f"connects {self.connects}, closes {self.closed_reasons[-3:]}, errors {self.errors[-3:]})"
                    )
                self.lock.wait(min(left, 0.2))

    def host_interfaces(self, host: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.interfaces.items() if v.get("host") == host}

    def has_interface(self, host: str, name: str) -> bool:
        return any(i.get("name") == name for i in self.host_interfaces(host).values())


# -- state, scans and the change log -------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """The comparable part of one node's topology: keys, peers, names."""

    namespaces: frozenset[str]
    interfaces: frozenset[str]
    peers: frozenset[tuple[str, str]]
    names: frozenset[tuple[str, str]]  # (interface key, name)
    ns_names: frozenset[tuple[str, str]]  # (namespace key, first name)

    def restrict(self, ns_keys: Iterable[str]) -> View:
        """Only the given namespaces and the interfaces in them (``key`` is if:<ns inode>:<idx>)."""
        keep = set(ns_keys)
        inodes = {k.split(":", 1)[1] for k in keep}

        def mine(if_key: str) -> bool:
            return if_key.split(":")[1] in inodes

        return View(
            namespaces=frozenset(k for k in self.namespaces if k in keep),
            interfaces=frozenset(k for k in self.interfaces if mine(k)),
            peers=frozenset(p for p in self.peers if mine(p[0])),
            names=frozenset(n for n in self.names if mine(n[0])),
            ns_names=frozenset(n for n in self.ns_names if n[0] in keep),
        )

    def counts(self) -> dict[str, int]:
        return {"namespaces": len(self.namespaces), "interfaces": len(self.interfaces), "peers": len(self.peers)}

    def by_namespace(self) -> dict[str, tuple[frozenset[Any], ...]]:
        """Namespace key -> everything of this view inside it (its names, interfaces, peers)."""
        groups: dict[str, list[set[Any]]] = {k: [set(), set(), set(), set()] for k in self.namespaces}
        empty: list[set[Any]] = [set(), set(), set(), set()]

        def group(if_key: str) -> list[set[Any]]:
            return groups.get("ns:" + if_key.split(":")[1], empty)

        for k in self.interfaces:
            group(k)[0].add(k)
        for p in self.peers:
            group(p[0])[1].add(p)
        for n in self.names:
            group(n[0])[2].add(n)
        for k, name in self.ns_names:
            groups.get(k, empty)[3].add(name)
        return {k: tuple(frozenset(part) for part in parts) for k, parts in groups.items()}

    def stable(self, other: View) -> set[str]:
        """The namespaces that are in both views with the same content."""
        mine, theirs = self.by_namespace(), other.by_namespace()
        return {k for k, parts in mine.items() if theirs.get(k) == parts}

    def diff(self, other: View, limit: int = 8) -> str:
        lines = []
        for name in ("namespaces", "interfaces", "peers", "names", "ns_names"):
            a, b = getattr(self, name), getattr(other, name)
            if a != b:
                only_a, only_b = sorted(a - b, key=str), sorted(b - a, key=str)
                lines.append(
                    f"  {name}: only in server {len(only_a)} {only_a[:limit]}; "
                    f"only in scan {len(only_b)} {only_b[:limit]}"
                )
        return "\n".join(lines) or "  (equal)"


def view_from_graph(graph: dict[str, Any], host: str) -> View:
    """The node's part of the server's graph JSON (REST /api/v1/topology/)."""
    namespaces = [n for n in graph.get("namespaces", []) if n.get("host") == host]
    interfaces = [i for i in graph.get("interfaces", []) if i.get("host") == host]
    return View(
        namespaces=frozenset(n["key"] for n in namespaces),
        interfaces=frozenset(i["key"] for i in interfaces),
        peers=frozenset((i["key"], str(i["peer"]).split("/", 1)[-1]) for i in interfaces if i.get("peer")),
        names=frozenset((i["key"], i["name"]) for i in interfaces),
        ns_names=frozenset((n["key"], (n.get("names") or [""])[0]) for n in namespaces),
    )


def view_from_scan(inventory: dict[str, Any]) -> View:
    """The same view from ``python -m agent scan --json``."""
    return View(
        namespaces=frozenset(n["key"] for n in inventory["namespaces"]),
        interfaces=frozenset(i["key"] for i in inventory["interfaces"]),
        peers=frozenset((i["key"], i["peer"]) for i in inventory["interfaces"] if i.get("peer")),
        names=frozenset((i["key"], i["name"]) for i in inventory["interfaces"]),
        ns_names=frozenset((n["key"], (n.get("names") or [""])[0]) for n in inventory["namespaces"]),
    )


def scan(node: str) -> dict[str, Any]:
    """A fresh inventory of this host, from a separate `python -m agent scan --json` process."""
    proc = subprocess.run(
        [PYTHON, "-m", "agent", "scan", "--json", "--node", node],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode not in (0, 3):
        raise HarnessError(f"agent scan failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def changelog_problems(records: list[dict[str, Any]], present: set[tuple[str, str]]) -> list[str]:
    """What is wrong with a node's change log, given the (kind, key) pairs present now.

    Per object, in order: "added" only when absent, "removed"/"changed" only when present,
    "changed" with before != after, "moved" from a present key (``before["key"]``) to an absent
    one; and replaying the log gives exactly what is present now (a lost record leaves an object
    missing or stale, a duplicated one breaks the alternation). Host records are not objects.
    """
    problems: list[str] = []
    state: dict[tuple[str, str], bool] = {}
    for r in records:
        kind, action = r["object_kind"], r["action"]
        if kind == "host":
            continue
        obj = (kind, r["object_key"])
        where = f"(record {r['id']} at {r['time']})"
        exists = state.get(obj, False)
        if action == "added":
            if exists:
                problems.append(f"{obj} added twice {where}")
            state[obj] = True
        elif action == "removed":
            if not exists:
                problems.append(f"{obj} removed while absent {where}")
            state[obj] = False
        elif action == "changed":
            if not exists:
                problems.append(f"{obj} changed while absent {where}")
            if r.get("before") == r.get("after"):
                problems.append(f"{obj} 'changed' with before == after {where}: a replay?")
            state[obj] = True
        elif action == "moved":
            old = (kind, str((r.get("before") or {}).get("key")))
            if not state.get(old, False):
                problems.append(f"{obj} moved from {old}, which is absent {where}")
            if exists and old != obj:
                problems.append(f"{obj} moved onto a present key {where}")
            state[old] = False
            state[obj] = True
        else:
            problems.append(f"{obj}: unknown action {action!r} {where}")
    logged = {obj for obj, exists in state.items() if exists}
    for obj in sorted(present - logged):
        problems.append(f"{obj} is present but the change log does not have it (a lost 'added')")
    for obj in sorted(logged - present):
        problems.append(f"{obj} is absent but the change log's last word is not 'removed' (a lost 'removed')")
    return problems


def present_objects(graph: dict[str, Any], host: str) -> set[tuple[str, str]]:
    out = {("namespace", n["key"]) for n in graph.get("namespaces", []) if n.get("host") == host}
    out |= {("interface", i["key"]) for i in graph.get("interfaces", []) if i.get("host") == host}
    return out


@dataclass(frozen=True)
class Queued:
    """One ingest message as it waits on the broker (in a node's inbox or in a Celery task on
    the queue): its body and signature."""

    body: str
    signature: str | None

    @property
    def type(self) -> str:
        return json.loads(self.body).get("type", "?")


# -- the cluster -----------------------------------------------------------------------------------


@dataclass
class Session:
    """What every test of a session shares: the database, the Redis DB, the API token."""

    database_url: str
    redis_url: str
    token: str
    secret_key: str
    log_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("DJANGO_SETTINGS_MODULE", "NODE_NAME", "NSMAP_NODE_KEY", "PYTEST_CURRENT_TEST"):
            env.pop(var, None)
        env.update(
            DJANGO_SETTINGS_MODULE="webui.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            NSMAP_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(REPO),
        )
        env.update(extra)
        return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run `manage.py ARGS`; its stdout, or a HarnessError with its output."""
    proc = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise HarnessError(
            f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise HarnessError("expected output, got none")
    return lines[-1]


def operator(env: dict[str, str]) -> tuple[str, str]:
    """A fresh user with the operator role and an API token for it: (username, token)."""
    user = unique("op")
    return user, last_line(manage(env, "nsmap_token", user, "--role", "operator"))


def ingest_fake_snapshot(env: dict[str, str], node: str, namespaces: int, key: str | None = None) -> str:
    """Put a FakeAgent snapshot of ``namespaces`` namespaces for ``node`` in the server's database
    (signed with the node's ``key``; without one, trusted like the embedded agent's): the
    ingest's status, "applied" when it was."""
    code = (
        "from tests.factories import FakeAgent, make_inventory; from webui.topology.ingest import ingest; "
        f"print(ingest(*FakeAgent({node!r}, {key!r}).snapshot(make_inventory({node!r}, namespaces={namespaces})), "
        f"trusted={key is None}).status)"
    )
    return manage(env, "shell", "-c", code)


def open_session(log_dir: Path) -> tuple[Session, Callable[[], None]]:
    """Create the database (migrated), claim a Redis DB, make a token; returns (session, cleanup)."""
    cleanups: list[Callable[[], None]] = []

    def cleanup() -> None:
        for fn in reversed(cleanups):
            try:
                fn()
            except Exception as exc:
                print(f"harness: cleanup failed: {exc!r}", file=sys.stderr)

    try:
        db_name, db_url = create_database()
        cleanups.append(lambda: drop_database(db_name))
        redis_url = claim_redis_db()
        cleanups.append(lambda: release_redis_db(redis_url))
        session = Session(db_url, redis_url, "", secrets.token_hex(32), log_dir)
        env = session.env()
        manage(env, "migrate", "--no-input")
        session.token = last_line(manage(env, "nsmap_token", f"dist-{secrets.token_hex(3)}"))
        return session, cleanup
    except BaseException:
        cleanup()
        raise


class EmbeddedServer:
    """``manage.py nsmap_serve`` (embedded: no Redis, the local agent inside unless ``agent`` is
    false) as a Proc of ``procs``, stopped with them. Its SQLite database and var dir are in
    ``tmp``, never the checkout's; ``env`` adds to or overrides the environment it runs with."""

    def __init__(self, tmp: Path, procs: Processes, agent: bool = True, **env: str) -> None:
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
        self.env.update(
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            NSMAP_VAR_DIR=str(tmp / "var"),
            NODE_NAME=f"srv-{secrets.token_hex(3)}",
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
        )
        self.env.update(env)
        self.node = self.env["NODE_NAME"]
        manage(self.env, "migrate", "--no-input")
        self.token = last_line(manage(self.env, "nsmap_token", "tester"))
        argv = [PYTHON, "manage.py", "nsmap_serve"] + ([] if agent else ["--no-agent"])
        self.started = time.perf_counter()
        self.proc = procs.add("nsmap_serve", argv, self.env).start()
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


class Cluster:
    """Daphne + Celery worker + agent(s) for one test, against the session's database."""

    def __init__(self, session: Session, procs: Processes, redis: PrivateRedis | None = None) -> None:
        self.session = session
        self.procs = procs
        self.redis = redis  # our own redis-server, for tests that stop it; else the session's DB
        self.redis_url = redis.url if redis else session.redis_url
        self.node = unique("dist")
        self.node_key = ""
        self.port = free_port()
        self.api = Api(f"http://127.0.0.1:{self.port}", session.token)
        self.web: Proc | None = None
        self.worker: Proc | None = None
        self.agent: Proc | None = None
        self._workers = 0
        self._graphs: list[LiveGraph] = []

    # -- processes ---------------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        return self.session.env(REDIS_URL=self.redis_url, **extra)

    def add_node(self) -> str:
        self.node_key = last_line(manage(self.env(), "nsmap_node", "add", self.node))
        return self.node_key

    def start_web(self) -> Proc:
        argv = [PYTHON, "manage.py", "nsmap_serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.web = self.procs.add("web", argv, self.env()).start()
        wait_until(self.api.topology, 30, f"nsmap_serve answering /api/v1/topology/ on port {self.port}", self.procs)
        return self.web

    def start_worker(self, wait: bool = True) -> Proc:
        self._workers += 1
        name = f"worker{self._workers}"
        argv = [PYTHON, "-m", "celery", "-A", "webui", "worker", "-Q", "ingest", "-P", "solo", "--concurrency", "1"]
        argv += ["--without-mingle", "--without-gossip", "-n", f"{self.node}-{name}@%h", "-l", "INFO"]
        self.worker = self.procs.add(name, argv, self.env()).start()
        if wait:
            worker = self.worker
            wait_until(lambda: " ready." in worker.log(), 60, f"Celery {name} ready", self.procs)
        return self.worker

    def start_agent(self, wait: bool = True, **extra: str) -> Proc:
        if not self.node_key:
            self.add_node()
        if self.agent is None:
            env = self.env(NODE_NAME=self.node, NSMAP_NODE_KEY=self.node_key, **extra)
            self.agent = self.procs.add("agent", [PYTHON, "-m", "agent", "run"], env)
        self.agent.start()
        if wait:
            self.wait_node_online()
        return self.agent

    def start(self) -> Cluster:
        self.add_node()
        self.start_web()
        self.start_worker()
        self.start_agent()
        return self

    def wait_node_online(self, timeout: float = 60, run_not: str | None = None) -> dict[str, Any]:
        """Until the node is online with namespaces in the topology (and a run other than ``run_not``)."""

        def ready() -> dict[str, Any] | None:
            node = self.api.node(self.node)
            if not node or node.get("state") != "online" or (run_not and node.get("run") == run_not):
                return None
            graph = self.api.topology()
            return node if any(n.get("host") == self.node for n in graph["namespaces"]) else None

        return wait_until(ready, timeout, f"node {self.node} online with its snapshot ingested", self.procs)

    # -- clients -----------------------------------------------------------------------------------

    def live(self) -> LiveGraph:
        graph = LiveGraph(f"ws://127.0.0.1:{self.port}/ws/topology/", self.session.token)
        graph.procs = self.procs
        self._graphs.append(graph)
        return graph.start()

    def close(self) -> None:
        for graph in self._graphs:
            graph.close()

    def send_ingest(self, *args: Any) -> None:
        """Put one ingest task on the queue exactly as the agent does (args: body, signature)."""
        from celery import Celery

        app = Celery("nsmap-test", broker=self.redis_url)
        try:
            app.send_task("nsmap.ingest", args=list(args), queue="ingest")
        finally:
            app.close()

    def waiting_messages(self, node: str | None = None) -> list[Queued]:
        """Every ingest message waiting (not yet applied), oldest first: those in ``node``'s inbox
        (where the agent puts them; default this cluster's node), then ``nsmap.ingest`` tasks
        on the queue that carry their message (what ``send_ingest`` sends)."""
        from agent.inbox import INBOX_KEY

        client = redis_client(self.redis_url)
        out = []
        for raw in client.lrange(INBOX_KEY.format(node=node or self.node), 0, -1):
            body, signature = json.loads(raw)
            out.append(Queued(body, signature))
        for raw in reversed(client.lrange("ingest", 0, -1)):
            envelope = json.loads(raw)
            if envelope.get("headers", {}).get("task") != "nsmap.ingest":
                continue  # a wake-up (nsmap.drain): its messages are in the inbox
            body = envelope["body"]
            if envelope.get("properties", {}).get("body_encoding") == "base64":
                body = base64.b64decode(body).decode()
            args = json.loads(body)[0]
            signature = args[1] if len(args) > 1 else None
            out.append(Queued(args[0], signature))
        return out

    # -- checks --------------------------------------------------------------------------------------

    def server_view(self) -> View:
        return view_from_graph(self.api.topology(), self.node)

    def assert_matches_scan(self, own_namespaces: Iterable[str] = (), timeout: float = 45) -> View:
        """Until the server's view of this node equals a fresh scan (full sets, hence counts).

        Other runs may change the host meanwhile: what counts is what two scans around the
        server read agree on. When the host keeps changing (other test runs building and
        removing namespaces), the comparison covers the namespaces that stayed the same between
        the two scans, which must include the test's own; and the server may hold no namespace
        that neither scan saw.
        """
        own_names = set(own_namespaces)
        last: dict[str, str] = {}

        def equal() -> View | None:
            before = view_from_scan(scan(self.node))
            server = self.server_view()
            after = view_from_scan(scan(self.node))
            own_keys = {k for k, n in after.ns_names if n in own_names}
            if own_names and len(own_keys) != len(own_names):
                last["why"] = f"scan sees {len(own_keys)} of the test's {len(own_names)} namespaces"
                return None
            if before != after:
                stable = before.stable(after)
                gone = server.namespaces - before.namespaces - after.namespaces
                if not own_keys <= stable or gone:
                    last["why"] = f"the host changed during the comparison; server-only namespaces {sorted(gone)[:8]}"
                    return None
                server, after = server.restrict(stable), after.restrict(stable)
            if server != after:
                last["why"] = (
                    f"server {server.counts()} vs scan {after.counts()}\n"
                    f"test's own objects:\n{server.restrict(own_keys).diff(after.restrict(own_keys))}\n"
                    f"all:\n{server.diff(after)}"
                )
                return None
            return server

        return wait_until(
            equal,
            timeout,
            f"node {self.node}'s server state to equal a fresh scan",
            self.procs,
            interval=0.5,
            detail=lambda: last.get("why", ""),
        )

    def assert_changelog_consistent(self, attempts: int = 5) -> list[dict[str, Any]]:
        """No change record lost or duplicated: the log replays to the present state.

        The graph says which patch it reflects (``seq``); only records published up to that
        patch (``graph_seq``) are replayed, so changes arriving between the two reads do not
        count. A mismatch is read again a few times before it fails.
        """
        problems: list[str] = []
        records: list[dict[str, Any]] = []
        for attempt in range(attempts):
            graph = self.api.topology()
            records = self.api.changes(self.node)
            upto = graph.get("seq")
            upto_records = [r for r in records if upto is None or r.get("graph_seq", 0) <= upto]
            problems = changelog_problems(upto_records, present_objects(graph, self.node))
            if not problems:
                return records
            if attempt + 1 < attempts:
                time.sleep(1)
        raise HarnessError(
            f"change log of {self.node} ({len(records)} records) is inconsistent:\n  " + "\n  ".join(problems[:30])
        )


@contextlib.contextmanager
def running_cluster(log_dir: Path) -> Iterator[Cluster]:
    """A Cluster (not started: the caller starts what it needs, timing it if it likes) on a fresh
    session, for the benches; on failure the processes' last lines go to stderr, and the
    processes, the database and the Redis DB go in any case."""
    procs = Processes(log_dir)
    session, cleanup = open_session(log_dir)
    try:
        yield Cluster(session, procs)
    except BaseException:
        print("\n".join(f"--- {t}\n{x}" for t, x in procs.report(40)), file=sys.stderr)
        raise
    finally:
        procs.close()
        cleanup()


def records_for(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [r for r in records if r["object_key"] == key]


def assert_lifecycle(records: list[dict[str, Any]], key: str, name: str, removed: bool) -> None:
    """The interface ``name`` at ``key`` was added once (first) and, if ``removed``, removed once
    (last); changes between are allowed (an end published before its peer could be resolved).

    Records of the same key under another name belong to an earlier object: namespace inodes,
    and so keys, are reused by the kernel once a namespace is gone.
    """
    mine = [r for r in records_for(records, key) if str(r["name"]).split("@")[0] == name]
    actions = [r["action"] for r in mine]
    expected_removed = 1 if removed else 0
    ok = bool(actions) and actions[0] == "added" and actions.count("added") == 1
    ok = ok and actions.count("removed") == expected_removed and (not removed or actions[-1] == "removed")
    if not ok:
        want = "added ... removed" if removed else "added ..."
        raise HarnessError(f"change log of {name} ({key}): expected {want}, got:\n{describe(mine)}")


def describe(records: list[dict[str, Any]]) -> str:
    """One line per record: the action, and for a change the fields that changed."""
    lines = []
    for r in records:
        before, after = r.get("before") or {}, r.get("after") or {}
        fields = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
        detail = f" {fields}" if r["action"] in ("changed", "moved") else ""
        lines.append(f"  {r['id']} {r['time']} {r['action']} {r['object_key']} {r['name']}{detail}")
    return "\n".join(lines)


def settle(cluster: Cluster, own_namespaces: Iterable[str]) -> list[dict[str, Any]]:
    """The checks after every test: state equals a fresh scan; the change log is consistent."""
    cluster.assert_matches_scan(own_namespaces)
    cluster.procs.check_alive()
    return cluster.assert_changelog_consistent()
