"""End-to-end fixtures: the real embedded server as a subprocess and a real headless Chromium.

- ``server`` (session): ``manage.py migrate`` + ``nsmap_serve`` on a free port, with a temp SQLite
  DB (DATABASE_URL) and var dir, REDIS_URL unset (embedded: the local agent runs inside and
  watches this host's kernel). Users ``e2e-admin`` (admin) and ``e2e-viewer`` (viewer) get
  passwords. Killed at the end; its log is printed when a test fails.
- ``browser`` (session): Debian's /usr/bin/chromium through Playwright's sync API.
- ``page`` (test): a fresh 1366x768 context; console errors and page errors fail the test (checked
  after the test body by ``pytest_runtest_call`` and again after the page is closed).
- ``topo`` (tests/conftest.py): a tests.kernel_topology.Topology with a fresh prefix, torn down
  also on failure; here without root it skips with the e2e wording (``needs_root``).
- Functions the tests import: ``login(page, server, user)``, ``open_graph(page, server)``,
  ``shot(page, name)``, ``wait_js(page, expr)``, ``start_harness(page, static_url, view)``,
  ``axe(page, static_base)`` / ``serious(violations)`` (axe-core, static/vendor/).
- The pages run under a Content-Security-Policy without 'unsafe-eval': wait on JS functions
  (``"() => ..."``), never on bare expressions, which Playwright would ``eval`` in the page.

Root is needed for the kernel parts; without it they skip loudly (the pure-model test does not).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, NETWORK_CHANGED, launch, load_until_ready, serve_static
from tests.distributed.harness import free_port
from tests.kernel_topology import is_root

REPO = Path(__file__).resolve().parents[2]

SHOTS = REPO / "artifacts" / "screenshots"
PASSWORDS = {"e2e-admin": "e2e-admin-" + secrets.token_hex(6), "e2e-viewer": "e2e-viewer-" + secrets.token_hex(6)}
ROLES = {"e2e-admin": "admin", "e2e-viewer": "viewer"}
# Patches travel agent -> ingest -> WebSocket within milliseconds; a new namespace waits for the
# agent's watchers (inotify on /run/netns, a /proc pass every 2 s). Generous for a loaded CI box.
LIVE_TIMEOUT_MS = 30_000
AXE_FILE = "vendor/axe-core-4.14.1.min.js"  # static/vendor/, vendored for the tests only


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    passwords: dict[str, str] = field(default_factory=dict)

    def manage(self, *args: str, input: str | None = None) -> str:
        """Run ``manage.py ARGS`` against the server's database; returns stdout."""
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {out.stderr[-2000:]}")
        return out.stdout

    def tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def _missing() -> str | None:
    for rel in ("manage.py", "webui/topology/management/commands/nsmap_serve.py", "webui/dashboard/urls.py"):
        if not (REPO / rel).exists():
            return f"{rel} is not there yet"
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (make system-deps installs Debian's chromium)"
    return None


SET_PASSWORDS = """
import json, sys
from django.contrib.auth.models import Group, User
for name, (password, role) in json.loads(sys.stdin.read()).items():
    user, _ = User.objects.get_or_create(username=name)
    user.set_password(password)
    user.is_staff = role == "admin"
    user.is_superuser = role == "admin"
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
"""


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    reason = _missing()
    if reason:
        pytest.skip(f"e2e: {reason}")
    if not is_root():
        pytest.skip(
            "e2e: NEEDS ROOT — the embedded server's agent must read every namespace and the tests "
            "build veth pairs with `ip`; CI runs as root"
        )
    tmp = tmp_path_factory.mktemp("e2e-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "NSMAP_VAR_DIR": str(tmp / "var"),
            "PORT": str(port),
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
            "NSMAP_HEARTBEAT_SECONDS": "2",
        }
    )
    srv = Server(url=f"http://127.0.0.1:{port}", env=env, log=tmp / "server.log", passwords=dict(PASSWORDS))
    srv.manage("migrate", "--no-input")
    import json

    srv.manage("shell", "-c", SET_PASSWORDS, input=json.dumps({u: (p, ROLES[u]) for u, p in PASSWORDS.items()}))
    with open(srv.log, "wb") as log:
        srv.proc = subprocess.Popen(
            [sys.executable, "manage.py", "nsmap_serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if srv.proc.poll() is not None:
                raise RuntimeError(f"nsmap_serve exited with {srv.proc.returncode}:\n{srv.tail()}")
            try:
                with urllib.request.urlopen(f"{srv.url}/login/", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"nsmap_serve did not answer within 60 s:\n{srv.tail()}")
            time.sleep(0.2)
        yield srv
    finally:
        if srv.proc.poll() is None:
            srv.proc.terminate()
            try:
                srv.proc.wait(15)
            except subprocess.TimeoutExpired:
                srv.proc.kill()
                srv.proc.wait(5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"e2e: {CHROMIUM} is missing (make system-deps installs Debian's chromium)")
    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Console:
    """Console errors of a page; NETWORK_CHANGED lines are kept apart (navigation that hits one
    is retried, see ``goto``, and the page reconnects its WebSocket)."""

    errors: list[str] = field(default_factory=list)
    network_changed: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if AXE_FILE in text:
            return  # axe-core's own probes (a test tool, injected by ``axe()``), not the page's
        (self.network_changed if NETWORK_CHANGED in text else self.errors).append(text)

    def check(self) -> None:
        assert not self.errors, f"browser console errors: {self.errors}"


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Any, console: Console, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context at a 1366x768 laptop's size; every console error is recorded."""
    (SHOTS / f"{request.node.name}-FAILED.png").unlink(missing_ok=True)  # from an earlier run
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(LIVE_TIMEOUT_MS)
    pg.on(
        "console",
        lambda m: console.add(f"{m.type}: {m.text} ({m.location.get('url', '')})") if m.type == "error" else None,
    )
    pg.on("pageerror", lambda e: console.add(f"pageerror: {e}"))
    pg.nsmap_console = console
    try:
        yield pg
    finally:
        call = getattr(request.node, "rep_call", None)
        failed = call is not None and call.failed
        if failed:
            with contextlib.suppress(Exception):  # the picture is a help, not the verdict
                shot(pg, f"{request.node.name}-FAILED")
        context.close()
    if not failed:
        console.check()  # what arrived while the page closed (a failed test has had its say)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A console error or uncaught page error fails the test itself (not only its teardown)."""
    result = yield
    funcargs = getattr(item, "funcargs", {})
    console = funcargs.get("console")
    if isinstance(console, Console):
        page = funcargs.get("page")
        if page is not None and not page.is_closed():
            # Playwright hands events over on the next call into the browser: make one.
            with contextlib.suppress(Exception):  # a page that navigated away has nothing to say
                page.evaluate("() => new Promise((r) => setTimeout(r, 50))")
        console.check()
    return result


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Remember each phase's report (for the failure screenshot) and attach the server log."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
    if rep.failed and "server" in getattr(item, "fixturenames", ()):
        srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
        if isinstance(srv, Server):
            rep.sections.append(("nsmap_serve log (tail)", srv.tail()))


def shot(page: Any, name: str) -> Path:
    """A screenshot in artifacts/screenshots/ (gitignored; look at them), once the graph has
    stopped moving: a picture taken halfway through a zoom shows what no user looks at."""
    page.wait_for_function("() => !(window.nsmapApp && nsmapApp.cy && nsmapApp.cy.animated())", timeout=5_000)
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def goto(page: Any, url: str) -> Any:
    """page.goto, again when Chromium dropped a resource because the host's network changed."""
    console: Console | None = getattr(page, "nsmap_console", None)
    for _ in range(3):
        seen = len(console.network_changed) if console else 0
        response = page.goto(url)
        page.wait_for_load_state("load")
        if console is None or len(console.network_changed) == seen:
            return response
    return response


def login(page: Any, server: Server, user: str, next_path: str = "/") -> None:
    """Sign in through the login form like a person."""
    goto(page, f"{server.url}/login/?next={next_path}")
    page.fill("#id_username", user)
    page.fill("#id_password", server.passwords[user])
    console: Console | None = getattr(page, "nsmap_console", None)
    seen = len(console.network_changed) if console else 0
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    if console is not None and len(console.network_changed) != seen and "/login/" not in page.url:
        goto(page, page.url)


def open_graph(page: Any, server: Server, user: str = "e2e-viewer", query: str = "view=graph") -> None:
    """Signed in, on the graph, with the first graph message drawn and the socket live."""
    login(page, server, user, next_path=f"/?{query}")
    page.wait_for_function(
        "() => window.nsmapApp && window.nsmapApp.connection === 'live' && window.nsmapApp.store.seq !== null"
    )
    page.wait_for_function("() => window.nsmapApp.mode !== 'graph' || window.nsmapApp.metrics.firstRenderMs !== null")


AXE_RUN = """async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\\s+/g, ' ')}`)}));
}"""


def axe(page: Any, static_base: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (loaded from ``static_base``,
    the URL static/ is served at, so the page's Content-Security-Policy allows it)."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(url=f"{static_base}/{AXE_FILE}")
    return list(page.evaluate(AXE_RUN))


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations that fail a test: impact serious or critical."""
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def wait_js(page: Any, expr: str, arg: Any = None, timeout: int = LIVE_TIMEOUT_MS) -> Any:
    """Wait until ``expr`` (a JS function of arg, never a bare expression: the page's
    Content-Security-Policy forbids the eval Playwright would use for one) is truthy; returns its value."""
    return page.wait_for_function(expr, arg=arg, timeout=timeout).json_value()


@pytest.fixture
def needs_root() -> None:
    """The shared ``topo`` fixture's root check, worded for e2e."""
    if not is_root():
        pytest.skip("e2e: NEEDS ROOT to build namespaces and veth pairs; CI runs as root")


@pytest.fixture(scope="session")
def static_url() -> Iterator[str]:
    """static/ over plain HTTP (ES modules need http://): the offline harness page lives there."""
    httpd, base = serve_static()
    try:
        yield base
    finally:
        httpd.shutdown()


def open_harness(page: Any, url: str) -> None:
    """Load the offline harness, again if a host network change cancelled one of its scripts."""
    load_until_ready(page, url, goto)


def start_harness(page: Any, static_url: str, view: str = "graph", namespaces: int = 6, query: str = "") -> Any:
    """The offline harness showing ``view`` of a synthetic graph of ``namespaces`` namespaces;
    ``query`` adds harness parameters (e.g. "&collapse=3", "&user=alice")."""
    open_harness(page, f"{static_url}/nsmap/harness.html?view={view}{query}")
    page.evaluate(f"() => nsmapStart(nsmapModel.syntheticGraph({int(namespaces)}))")
    return page


# -- lab actions (tests/e2e/test_e2e_lab_*.py) ------------------------------------------------------

# In the page: the id of the namespace whose /run/netns names include `name`, or null.
FIND_NS = (
    "(name) => ([...nsmapApp.store.namespaces.values()].find((n) => (n.names || []).includes(name)) || {}).id || null"
)
# ... and of the interface `ifname` in it.
FIND_IF = """([ns, ifname]) => {
  const s = nsmapApp.store;
  const n = [...s.namespaces.values()].find((x) => (x.names || []).includes(ns));
  const i = n && [...s.interfaces.values()].find((x) => x.namespace === n.id && x.name === ifname);
  return i ? i.id : null;
}"""


def ns_id(page: Any, name: str) -> str:
    """The graph id of the named namespace, once the page has it."""
    return str(wait_js(page, FIND_NS, name))


def if_id(page: Any, ns: str, ifname: str) -> str:
    """The graph id of interface ``ifname`` in the named namespace ``ns``, once the page has it."""
    return str(wait_js(page, FIND_IF, [ns, ifname]))


def lab_button(page: Any, label: str) -> Any:
    """The details panel's lab action button named exactly ``label``."""
    return page.locator(".nsm-lab-actions").get_by_role("button", name=label, exact=True)


def lab_form(page: Any) -> Any:
    """The open lab action form (the modal dialog)."""
    dialog = page.locator("dialog.nsm-lab-dialog[open]")
    dialog.wait_for()
    return dialog


def lab_count(page: Any, verb: str) -> int:
    """How many commands of ``verb`` the page has sent so far (for ``lab_done``'s ``since``)."""
    return int(page.evaluate("(verb) => nsmapApp.lab.commands.filter((c) => c.verb === verb).length", verb))


def lab_done(page: Any, verb: str, since: int = 0, count: int = 1) -> list[dict[str, Any]]:
    """Wait until the page has sent ``count`` commands of ``verb`` after the first ``since`` and
    they are finished; each must be done (a failure names the command's own reason)."""
    finished = wait_js(
        page,
        """([verb, since, count]) => {
          const mine = nsmapApp.lab.commands.filter((c) => c.verb === verb).slice(since);
          return mine.length >= count && mine.every((c) => c.status === 'done' || c.status === 'failed') ? mine : null;
        }""",
        [verb, since, count],
    )
    failed = [c for c in finished if c["status"] != "done"]
    assert not failed, f"{verb} failed on the page: {failed}"
    return list(finished)


# Where an element is on the screen: its rendered position plus the graph canvas's offset.
ON_SCREEN = """(id) => {
  const cy = nsmapApp.cy, box = cy.container().getBoundingClientRect();
  const p = cy.getElementById(id).renderedPosition();
  return { x: box.left + p.x, y: box.top + p.y };
}"""
# Whether the press took `id` (or an interface inside its box): grabbed to move, or a link's source.
PRESSED = """(id) => nsmapApp.cy.nodes('.eh-source, :grabbed').some((n) => n.id() === id || n.parent().id() === id)"""
# Whether a drawn link's end is on `target` (its box, or an interface inside it).
LINK_ON = """([, t]) => nsmapApp.cy.nodes('.eh-target').some((n) => n.id() === t || n.parent().id() === t)"""
# Whether the dragged node `s` is inside the box `t`.
NODE_IN = """([s, t]) => {
  const cy = nsmapApp.cy, p = cy.getElementById(s).position();
  const bb = cy.getElementById(t).boundingBox({ includeLabels: false });
  return p.x > bb.x1 && p.x < bb.x2 && p.y > bb.y1 && p.y < bb.y2;
}"""


def drag_to(page: Any, source: str, target: str, arrived: str) -> None:
    """Press on node ``source``, move onto node ``target`` and let go once ``arrived`` (LINK_ON or
    NODE_IN, a JS function of [source, target]) holds. Both places are read again until then: a
    patch anywhere on the map (a box that grows pushes its neighbours aside) may move them while
    the pointer travels, and a press or a drop beside the node is a different gesture."""
    deadline = time.monotonic() + LIVE_TIMEOUT_MS / 1000
    while True:
        start = page.evaluate(ON_SCREEN, source)
        page.mouse.move(start["x"], start["y"])
        page.mouse.down()
        if page.evaluate(PRESSED, source):
            break
        page.mouse.up()
        assert time.monotonic() < deadline, f"a press never took {source} (pointer at {start})"
    at = start
    while not page.evaluate(arrived, [source, target]):
        end = page.evaluate(ON_SCREEN, target)
        if abs(end["x"] - at["x"]) + abs(end["y"] - at["y"]) > 2:
            mid = {"x": (at["x"] + end["x"]) / 2, "y": (at["y"] + end["y"]) / 2}
            page.mouse.move(mid["x"], mid["y"], steps=8)
            page.mouse.move(end["x"], end["y"], steps=8)
            at = end
        else:
            page.wait_for_timeout(100)  # edgehandles marks a target after hovering on it a moment
        if time.monotonic() > deadline:
            page.mouse.up()
            raise AssertionError(f"dragging {source} never arrived on {target} (pointer at {at})")
    page.mouse.up()
