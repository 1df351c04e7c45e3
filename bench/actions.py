#!/usr/bin/env python3
"""Lab actions, measured where a person sees them: API call -> the new veth edge on the page.

    sudo .venv/bin/python -m bench.actions [--pairs 100] [--mode both|embedded|distributed] [--agent-only]

For each mode, a real server (embedded: `manage.py nsmap_serve`, SQLite, the local agent in
process; distributed: the harness's Daphne + Celery worker + `python -m agent run`, Redis and
PostgreSQL) and a real headless Chromium (Debian's, via Playwright) signed in as an operator on
the graph page. In two namespaces of its own (tests/kernel_topology.py, "nsm" prefix, torn down
after, also on failure) it times, ``--pairs`` times each:

  API create  the page POSTs veth.create (fetch, session + CSRF header, as the page's own forms
              do) and waits until its Cytoscape graph (window.nsmapApp.cy) holds the edge between
              the two ends with the names asked for; both moments on the page's clock
              (performance.now()), the wait driven by Cytoscape's add/data/remove events;
  API delete  the same for link.delete of one end, until the edge is gone;
  baseline    the same pair made (and deleted) directly with pyroute2 from this process, no
              command path: kernel -> agent -> ingest -> WebSocket -> page, the live pipeline's
              floor. Its start is this process's clock, mapped onto the page's by the round trip
              with the smallest delay (the offset's error is printed).

The ratio API / baseline is the command path's cost. For each API create the command's own
timings (the agent's received / started / finished) split the time into: POST -> agent has it,
agent acts, agent done -> edge on the page. Then the agent alone (agent/actions.py, no server)
against pyroute2 doing the same on sockets opened once: the reference figures of the issue.

Targets (issue 10): embedded p50 <= 50 ms and p99 <= 150 ms; distributed p50 <= 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import pct
from tests.distributed.harness import (
    Api,
    EmbeddedServer,
    Processes,
    last_line,
    manage,
    operator,
    running_cluster,
    wait_until,
)
from tests.e2e.conftest import ns_id
from tests.kernel_topology import Netns, Topology, install_signal_teardown

TARGETS = {"embedded": (50.0, 150.0), "distributed": (100.0, None)}  # p50, p99 (ms); None: no target
EDGE_TIMEOUT_MS = 20_000

# Resolves with performance.now() when ``want`` holds for the pair (a: ns id + name, b: ns id +
# name): "present" = the page draws an edge between the two ends, "absent" = it draws none. Checked
# on every Cytoscape add/data/remove event (a rename is a data event), and once at the start.
WATCH_JS = """
(spec) => {
  const app = window.nsmapApp, store = app.store, cy = app.cy;
  const ends = () => {
    for (const i of store.interfaces.values()) {
      if (i.namespace !== spec.a || i.name !== spec.na || !i.peer) continue;
      const p = store.interfaces.get(i.peer);
      if (p && p.namespace === spec.b && p.name === spec.nb) return [i.id, p.id];
    }
    return null;
  };
  const drawn = () => { const e = ends(); return !!(e && app.edgeBetween(e[0], e[1])); };
  const holds = () => (spec.want === "present" ? drawn() : !drawn());
  return new Promise((resolve, reject) => {
    let timer = null;
    const done = (value) => { cy.off("add data remove", check); clearTimeout(timer); resolve(value); };
    const check = () => {
      if (holds()) done(performance.now());
    };
    const fail = () => { cy.off("add data remove", check); reject(new Error(`no ${spec.want} edge`)); };
    timer = setTimeout(fail, spec.timeout);
    cy.on("add data remove", check);
    window.__nsmapWatch = { check, ends };
    check();
  });
}
"""

# The API path: arm the watch, POST from the page; [t0, t_answered, t_edge, status, command], the
# times in epoch ms on the page's clock (timeOrigin + performance.now()).
API_JS = (
    """
async ({spec, body, csrf}) => {
  const watch = ("""
    + WATCH_JS
    + """)(spec);
  const t0 = performance.timeOrigin + performance.now();
  const r = await fetch("/api/v1/commands/", {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}, body: JSON.stringify(body)});
  const tPosted = performance.timeOrigin + performance.now();
  const command = await r.json();
  if (r.status !== 202) return [t0, tPosted, null, r.status, command];
  window.__nsmapWatch.check();
  return [t0, tPosted, performance.timeOrigin + (await watch), r.status, command];
}
"""
)

# The baseline: arm the watch and hand its promise over (awaited by BASELINE_WAIT_JS).
ARM_JS = "(spec) => { window.__nsmapBaseline = (" + WATCH_JS + ")(spec); return true; }"
BASELINE_WAIT_JS = "async () => performance.timeOrigin + (await window.__nsmapBaseline)"


@dataclass(frozen=True)
class Moments:
    """One API call as the page saw it (epoch ms, the page's clock)."""

    t0: float  # fetch() called
    answered: float  # the API's answer read
    edge: float  # the edge drawn with the names asked for (create) / gone (delete)
    ident: str  # the command's id


@dataclass
class ModeRun:
    mode: str
    create: list[float] = field(default_factory=list)  # ms, API call -> edge drawn
    delete: list[float] = field(default_factory=list)
    base_create: list[float] = field(default_factory=list)  # ms, pyroute2 -> edge drawn
    base_delete: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)  # per API create, ms
    offset_error_ms: float = 0.0


# -- the servers --------------------------------------------------------------------------------


@dataclass
class Target:
    """A running server: its node, an operator who signs in on the page, and the same operator's
    API token (the bench reads the commands' timings with it)."""

    node: str
    user: str
    password: str
    api: Api


def operator_with_password(env: dict[str, str]) -> tuple[str, str, str]:
    """A fresh operator who can also sign in on the page: (name, password, API token)."""
    user, token = operator(env)
    return user, last_line(manage(env, "nsmap_user", user, "--reset")), token


@contextlib.contextmanager
def embedded(log_dir: Path) -> Iterator[Target]:
    """`manage.py nsmap_serve` on a free port: SQLite in a temp dir, the local agent inside."""
    tmp = Path(tempfile.mkdtemp(prefix="nsmap-bench-actions-"))
    procs = Processes(log_dir)
    try:
        server = EmbeddedServer(tmp, procs)
        user, password, token = operator_with_password(server.env)
        api = Api(server.base, token)
        wait_until(lambda: api.node(server.node), 120, f"{server.node} in the embedded server", procs, interval=0.2)
        yield Target(server.node, user, password, api)
    except BaseException:
        print("\n".join(f"--- {t}\n{x}" for t, x in procs.report(40)), file=sys.stderr)
        raise
    finally:
        procs.close()
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def distributed(log_dir: Path) -> Iterator[Target]:
    """The harness's cluster: Daphne, a Celery worker, the agent, Redis and PostgreSQL."""
    with running_cluster(log_dir) as cluster:
        cluster.start()
        user, password, token = operator_with_password(cluster.env())
        yield Target(cluster.node, user, password, Api(cluster.api.base, token))


# -- the page -----------------------------------------------------------------------------------


def sign_in(page: Any, target: Target) -> str:
    """Signed in on the graph, the socket live; returns the CSRF token the page's POSTs carry."""
    page.goto(f"{target.api.base}/login/?next=/%3Fview%3Dgraph")
    page.fill("#id_username", target.user)
    page.fill("#id_password", target.password)
    page.click("button[type=submit]")
    page.wait_for_function(
        "() => window.nsmapApp && nsmapApp.connection === 'live' && nsmapApp.store.seq !== null", timeout=60_000
    )
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies["csrftoken"]


def clock_offset(page: Any, samples: int = 15) -> tuple[float, float]:
    """(page epoch ms - this process's epoch ms, error bound ms) from the tightest round trip."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time() * 1000
        seen = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        half = (after - before) / 2
        if best is None or half < best[1]:
            best = (seen - (before + half), half)
    assert best is not None
    return best


def measure_mode(mode: str, target: Target, browser: Any, topo: Topology, pairs: int) -> ModeRun:
    run = ModeRun(mode)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        csrf = sign_in(page, target)
        a, b = topo.add_netns(f"{mode[0]}a"), topo.add_netns(f"{mode[0]}b")
        a_id, b_id = ns_id(page, str(a.name)), ns_id(page, str(b.name))

        def spec(na: str, nb: str, want: str) -> dict[str, Any]:
            return {"a": a_id, "b": b_id, "na": na, "nb": nb, "want": want, "timeout": EDGE_TIMEOUT_MS}

        def api(verb: str, args: dict[str, Any], watch: dict[str, Any]) -> Moments:
            body = {"node": target.node, "verb": verb, "args": args}
            t0, answered, edge, status, command = page.evaluate(API_JS, {"spec": watch, "body": body, "csrf": csrf})
            if status != 202:
                raise RuntimeError(f"{verb}: the API answered {status}: {command}")
            return Moments(t0, answered, edge, command["id"])

        offset, run.offset_error_ms = clock_offset(page)
        creates: list[Moments] = []
        for i in range(pairs):
            na, nb = f"x{i}", f"y{i}"
            args = {"a": {"namespace": a_id, "name": na, "up": True}, "b": {"namespace": b_id, "name": nb, "up": True}}
            created = api("veth.create", args, spec(na, nb, "present"))
            creates.append(created)
            run.create.append(created.edge - created.t0)
            interface = f"{target.node}/if:{a.inode}:{topo.link(a, na)['ifindex']}"
            deleted = api("link.delete", {"interface": interface}, spec(na, nb, "absent"))
            run.delete.append(deleted.edge - deleted.t0)
        run.stages = stages(creates, target.api, offset)

        with Direct(a, b) as direct:
            for i in range(pairs):
                na, nb = f"p{i}", f"q{i}"
                run.base_create.append(baseline(page, spec(na, nb, "present"), offset, lambda: direct.create(na, nb)))  # noqa: B023
                run.base_delete.append(baseline(page, spec(na, nb, "absent"), offset, lambda: direct.delete(na)))  # noqa: B023
    finally:
        page.close()
    return run


class Direct:
    """The pair veth.create makes (ends in a and b, both up), straight from pyroute2 on sockets
    opened once, on a thread of its own: Playwright's sync API runs an event loop on this one,
    and pyroute2's sync IPRoute cannot start its own there."""

    def __init__(self, a: Netns, b: Netns) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-pyroute2")
        self.a, self.b = a, b

    def __enter__(self) -> Direct:
        from pyroute2 import IPRoute

        def open_() -> None:
            self.in_a, self.in_b = IPRoute(netns=self.a.path, flags=0), IPRoute(netns=self.b.path, flags=0)
            self.fd_b = os.open(self.b.path, os.O_RDONLY)

        self.pool.submit(open_).result()
        return self

    def __exit__(self, *exc: object) -> None:
        def close() -> None:
            os.close(self.fd_b)
            self.in_a.close()
            self.in_b.close()

        self.pool.submit(close).result()
        self.pool.shutdown()

    def create(self, na: str, nb: str) -> None:
        def run() -> None:
            self.in_a.link("add", ifname=na, kind="veth", peer={"ifname": nb, "net_ns_fd": self.fd_b})
            self.in_a.link("set", index=self.in_a.link_lookup(ifname=na)[0], state="up")
            self.in_b.link("set", index=self.in_b.link_lookup(ifname=nb)[0], state="up")

        self.pool.submit(run).result()

    def delete(self, na: str) -> None:
        self.pool.submit(lambda: self.in_a.link("del", index=self.in_a.link_lookup(ifname=na)[0])).result()


def baseline(page: Any, watch: dict[str, Any], offset: float, act: Callable[[], None]) -> float:
    """ms from just before ``act`` (this process's clock, mapped onto the page's) to the page's edge."""
    page.evaluate(ARM_JS, watch)
    started = time.time() * 1000 + offset
    act()
    return float(page.evaluate(BASELINE_WAIT_JS)) - started


def stages(creates: list[Moments], api: Api, offset: float) -> dict[str, list[float]]:
    """Where each API create's time went, from its command's timings (the agent's clock: this
    host's, mapped onto the page's like the baseline's start)."""
    names = ("POST -> 202", "POST -> agent has it", "agent acts", "agent done -> edge drawn")
    out: dict[str, list[float]] = {k: [] for k in names}
    for m in creates:
        agent = {k: v * 1000 + offset for k, v in api.get(f"/api/v1/commands/{m.ident}/")["timings"]["agent"].items()}
        out["POST -> 202"].append(m.answered - m.t0)
        out["POST -> agent has it"].append(agent["received"] - m.t0)
        out["agent acts"].append(agent["finished"] - agent["started"])
        out["agent done -> edge drawn"].append(m.edge - agent["finished"])
    return out


# -- the agent alone (the issue note's reference figures) ----------------------------------------


def agent_only(topo: Topology, pairs: int) -> list[str]:
    """agent/actions.py's veth.create (both up) and link.delete, each parsed by agent/verbs.py,
    against pyroute2 doing the same on sockets opened once; p50/p99 and the p50 ratio."""
    from pyroute2 import IPRoute

    from agent.actions import Actions
    from agent.verbs import parse_args

    a, b = topo.add_netns("ga"), topo.add_netns("gb")
    actions = Actions("bench")
    create_ours, delete_ours = [], []
    try:
        for i in range(pairs):
            verb = {
                "a": {"namespace": a.name, "name": f"x{i}", "up": True},
                "b": {"namespace": b.name, "name": f"y{i}", "up": True},
            }
            started = time.perf_counter()
            made = actions.run(parse_args("veth.create", verb), str(uuid.uuid4()))
            create_ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            actions.run(parse_args("link.delete", {"interface": made["a"]["interface"]}), str(uuid.uuid4()))
            delete_ours.append(time.perf_counter() - started)
    finally:
        actions.close()
    create_floor, delete_floor = [], []
    in_a, in_b = IPRoute(netns=a.path, flags=0), IPRoute(netns=b.path, flags=0)
    fd_b = os.open(b.path, os.O_RDONLY)
    try:
        for i in range(pairs):
            started = time.perf_counter()
            in_a.link("add", ifname=f"x{i}", kind="veth", peer={"ifname": f"y{i}", "net_ns_fd": fd_b})
            index = in_a.link_lookup(ifname=f"x{i}")[0]
            in_a.link("set", index=index, state="up")
            in_b.link("set", index=in_b.link_lookup(ifname=f"y{i}")[0], state="up")
            create_floor.append(time.perf_counter() - started)
            started = time.perf_counter()
            in_a.link("del", index=index)
            delete_floor.append(time.perf_counter() - started)
    finally:
        os.close(fd_b)
        in_a.close()
        in_b.close()

    def line(name: str, ours: list[float], floor: list[float]) -> str:
        p50, p99, f50, f99 = (pct(v, q) * 1000 for v, q in ((ours, 50), (ours, 99), (floor, 50), (floor, 99)))
        return (
            f"{name:<12} nsmap p50 {p50:7.2f} ms  p99 {p99:7.2f} ms | pyroute2 floor p50 {f50:7.2f} ms  "
            f"p99 {f99:7.2f} ms | ratio p50 {p50 / f50:5.1f}x"
        )

    return [line("veth.create", create_ours, create_floor), line("link.delete", delete_ours, delete_floor)]


# -- the report ---------------------------------------------------------------------------------


def report(run: ModeRun) -> bool:
    """Print one mode's figures; True when its targets are met."""
    t50, t99 = TARGETS[run.mode]
    print(
        f"\n== {run.mode}: API call -> veth edge on the page "
        f"(ms; {len(run.create)} creates, {len(run.delete)} deletes) =="
    )
    print(f"{'':<24}{'p50':>9}{'p99':>9}{'max':>9}   baseline (pyroute2 -> page) p50 / p99   ratio p50 / p99")
    ok = True
    for name, ours, floor in (
        ("veth.create", run.create, run.base_create),
        ("link.delete", run.delete, run.base_delete),
    ):
        p50, p99, f50, f99 = pct(ours, 50), pct(ours, 99), pct(floor, 50), pct(floor, 99)
        met = p50 <= t50 and (t99 is None or p99 <= t99)
        ok &= met
        print(
            f"{name:<24}{p50:9.1f}{p99:9.1f}{max(ours):9.1f}   {f50:13.1f} / {f99:6.1f}"
            f"{'':<12}{p50 / f50:5.1f}x / {p99 / f99:4.1f}x   target p50 <= {t50:.0f}"
            + (f", p99 <= {t99:.0f}" if t99 is not None else "")
            + f": {'target met' if met else 'target NOT met'}"
        )
    print(f"{'':<24}(clock offset page - bench known to +-{run.offset_error_ms:.2f} ms)")
    print("where a create's time goes (p50 / p99 ms, from the command's agent timings):")
    for name, values in run.stages.items():
        print(f"  {name:<26}{pct(values, 50):8.1f} / {pct(values, 99):8.1f}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--mode", choices=["embedded", "distributed", "both"], default="both")
    parser.add_argument("--agent-only", action="store_true", help="only the agent against pyroute2 (no server)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/actions.py needs root (it builds namespaces)", file=sys.stderr)
        return 2
    install_signal_teardown()
    log_dir = Path(tempfile.mkdtemp(prefix="nsmap-bench-actions-logs-"))
    print(f"process logs in {log_dir}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    runs: list[ModeRun] = []
    with Topology() as topo:
        if not args.agent_only:
            from playwright.sync_api import sync_playwright

            from tests.browser import launch

            modes = ["embedded", "distributed"] if args.mode == "both" else [args.mode]
            with sync_playwright() as playwright:
                browser = launch(playwright)
                try:
                    for mode in modes:
                        print(
                            f"-- {mode}: {args.pairs} creates and deletes through the API, then the baseline ...",
                            flush=True,
                        )
                        with (embedded if mode == "embedded" else distributed)(log_dir) as target:
                            runs.append(measure_mode(mode, target, browser, topo, args.pairs))
                finally:
                    browser.close()
        print(f"-- the agent alone: {args.pairs} pairs ...", flush=True)
        agent_lines = agent_only(topo, args.pairs)
    left = topo.leftovers()
    ok = all([report(run) for run in runs])
    print(f"\n== the agent alone (agent/actions.py vs pyroute2 on kept sockets; {args.pairs} pairs) ==")
    print("\n".join(agent_lines))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (other work on the machine inflates every figure)")
    print("nothing left behind" if not left else f"LEFT BEHIND: {left}")
    return 0 if ok and not left else 1


if __name__ == "__main__":
    sys.exit(main())
