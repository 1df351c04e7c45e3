"""Live latency: from `ip link add` returning to the patch with that interface on a WebSocket.

    .venv/bin/python -m bench.latency [--namespaces 500] [--changes 200] [--mode both]
                                      [--idle-namespaces 1000] [--idle-seconds 30]

Builds N namespaces (bench/discovery.py's topology: each with eth0 on a host bridge, a veth to
its neighbour, addresses, all up; unique "nsm" prefix; torn down after, also on SIGTERM), then
for each mode makes ``--changes`` veth pairs in the root namespace one at a time with `ip link
add` and times, for each, the moment the command returned to the moment a WebSocket client
(Bearer token, like a browser) received the patch (or graph) carrying the new interface:

  embedded     `manage.py nsmap_serve` on a free port, SQLite in a temp dir, in-memory layer
  distributed  Daphne + a Celery worker (-Q ingest) + `python -m agent run`, Redis (a claimed
               DB of 127.0.0.1:6379) and PostgreSQL (a fresh database), as tests/distributed runs them

Baselines from the same run: the `ip link add` command's own duration, and the arrival of the
kernel's RTM_NEWLINK on a netlink socket in this process (what the agent could know at best).
Then, at ``--idle-namespaces`` (distributed phase): the agent's idle CPU and RSS (nothing
changing, ``--idle-seconds`` long, reconciles included) and the worker's ingest time of that
agent's first snapshot (a fresh node; its transaction, from the worker's trace line).

Every server process runs with NSMAP_TRACE=1 (webui/live/trace.py): the report breaks each
change's latency down into stages (agent, broker and Celery, transaction, commit, group_send,
Daphne, client) from the processes' trace lines.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.netlink import RTM_NEWLINK, RTNLGRP_LINK, EventSocket
from bench.discovery import bridge_name, build
from bench.measure import KernelEvents, bridge_forward_delay, cpu_seconds, memory_mb, pct
from tests.distributed.harness import (
    PYTHON,
    Api,
    Cluster,
    EmbeddedServer,
    LiveGraph,
    Processes,
    last_line,
    manage,
    redis_client,
    running_cluster,
    wait_until,
)
from tests.kernel_topology import Topology, install_signal_teardown

TARGETS = {"embedded": (20.0, 100.0), "distributed": (40.0, 200.0)}  # p50, p99 in ms
CHANGE_TIMEOUT = 10.0


# The moments a change passes (webui/live/trace.py), in order: `ip link add` returned, the agent
# made its message, the Celery task began (distributed), the ingest transaction began, it held
# the node's row lock, the work on this change's message(s) began and ended (a batch applies
# several in one transaction), the transaction's writes were done, it committed, group_send
# returned, Daphne's consumer got the patch and wrote it, the client read it.
STAGES = (
    "returned",
    "agent",
    "task",
    "tx",
    "locked",
    "group",
    "applied",
    "written",
    "commit",
    "sent",
    "recv",
    "out",
    "client",
)


@dataclass
class Run:
    """The figures of one mode."""

    mode: str
    latency_ms: list[float] = field(default_factory=list)
    ip_ms: list[float] = field(default_factory=list)
    netlink_ms: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    startup_s: float = 0.0
    # per measured change: the wall-clock moments it passed (STAGES), joined from the trace lines
    moments: list[dict[str, float]] = field(default_factory=list)


class NetlinkClock:
    """When each new link's RTM_NEWLINK reached a socket of this process (the in-process floor)."""

    def __init__(self) -> None:
        self.sock = EventSocket(groups=(RTNLGRP_LINK,))
        self.seen: dict[str, float] = {}
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="netlink-clock")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                events = self.sock.read()
            except OSError:
                if self._stop:
                    return
                continue
            now = time.perf_counter()
            for event in events:
                if event.type == RTM_NEWLINK and event.link is not None and event.nsid is None:
                    self.seen.setdefault(event.link.name, now)

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def measure(
    run: Run, topo: Topology, live: LiveGraph, node: str, changes: int, clock: NetlinkClock, logs: list[Path]
) -> None:
    """Make ``changes`` veth pairs one by one; time each from `ip link add` returning."""
    tag = run.mode[0]
    made = []
    carried: dict[str, int] = {}  # interface name -> number of the patch that first carried it

    def note(msg: dict[str, Any], _now: float) -> None:
        if msg.get("type") == "patch":
            for i in (msg.get("upsert") or {}).get("interfaces", []):
                if i.get("host") == node:
                    carried.setdefault(i.get("name", ""), msg["seq"])

    live.watchers.append(note)
    walls: dict[str, tuple[float, float]] = {}  # name -> (wall clock at the return, latency s)
    for i in range(changes):
        name, peer = topo.name(f"{tag}{i:03d}"), topo.name(f"{tag}{i:03d}p")
        began = time.perf_counter()
        subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", peer], check=True)
        returned, wall = time.perf_counter(), time.time()
        made.append(name)
        run.ip_ms.append((returned - began) * 1000)
        try:
            arrived = live.wait(lambda n=name: live.first_seen.get((node, n)), CHANGE_TIMEOUT, f"{name}")
        except AssertionError:
            run.missed.append(name)
            continue
        run.latency_ms.append((arrived - returned) * 1000)
        walls[name] = (wall, arrived - returned)
        if name in clock.seen:
            run.netlink_ms.append((clock.seen[name] - returned) * 1000)
        time.sleep(0.01)  # one change at a time: no coalescing of two measurements
    live.watchers.remove(note)
    topo.batch([f"link del dev {n}" for n in made], force=True)
    time.sleep(0.5)  # the last trace lines reach the logs
    traced = read_traces(logs)
    for name, (wall, latency) in walls.items():
        seq = carried.get(name)
        if seq is not None and seq in traced:
            run.moments.append({**traced[seq], "returned": wall, "client": wall + latency})


def read_traces(logs: list[Path]) -> dict[int, dict[str, float]]:
    """Patch number -> the moments the server's trace lines give for it (NSMAP_TRACE=1)."""
    from webui.live.trace import parse

    out: dict[int, dict[str, float]] = {}
    for path in logs:
        with contextlib.suppress(FileNotFoundError), open(path, errors="replace") as handle:
            for line in handle:
                parsed = parse(line)
                if parsed is not None:
                    out.setdefault(parsed[1], {}).update(parsed[2])
    return out


def breakdown(run: Run) -> list[str]:
    """Lines of p50/p90 per stage (ms) over the changes whose every moment is known.

    A moment earlier than the one before it was shared with earlier work (the message joined a
    drain task that was already running, a batch with older messages): it counts as passed at
    once, so every stage is >= 0 and the stages add up to the latency.
    """
    present = [s for s in STAGES if run.moments and all(s in m for m in run.moments)]
    if len(present) < 3:
        return [f"{run.mode:<12}no trace lines (NSMAP_TRACE)"]
    lines = [f"{run.mode:<12}{len(run.moments)} changes traced; p50 / p90 per stage (ms):"]
    moments = [dict(zip(present, itertools.accumulate((m[s] for s in present), max), strict=True)) for m in run.moments]
    for a, b in itertools.pairwise(present):
        spans = [(m[b] - m[a]) * 1000 for m in moments]
        lines.append(f"{'':<14}{a + ' -> ' + b:<22}{pct(spans, 50):8.2f}{pct(spans, 90):8.2f}")
    return lines


def wait_online(api: Api, node: str, procs: Processes, timeout: float = 180) -> None:
    def ready() -> bool:
        graph = api.topology()
        return any(n.get("host") == node for n in graph["namespaces"])

    wait_until(ready, timeout, f"{node}'s snapshot in the server", procs, interval=0.2)


def run_embedded(topo: Topology, args: argparse.Namespace, clock: NetlinkClock, log_dir: Path) -> Run:
    run = Run("embedded")
    tmp = Path(tempfile.mkdtemp(prefix="nsmap-bench-"))
    procs = Processes(log_dir)
    try:
        server = EmbeddedServer(tmp, procs)
        api = Api(server.base, server.token)
        wait_online(api, server.node, procs)
        run.startup_s = time.perf_counter() - server.started
        with LiveGraph(f"ws://127.0.0.1:{server.port}/ws/topology/", server.token) as live:
            measure(run, topo, live, server.node, args.changes, clock, [p.log_path for p in procs.procs])
    except BaseException:
        print("\n".join(f"--- {t}\n{x}" for t, x in procs.report(40)), file=sys.stderr)
        raise
    finally:
        procs.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return run


def run_distributed(
    topo: Topology, args: argparse.Namespace, clock: NetlinkClock, log_dir: Path, results: dict[str, Any]
) -> Run:
    run = Run("distributed")
    with running_cluster(log_dir) as cluster:
        began = time.perf_counter()
        cluster.add_node()
        cluster.start_web()
        cluster.start_worker()
        cluster.start_agent(wait=False)
        wait_online(cluster.api, cluster.node, cluster.procs)
        run.startup_s = time.perf_counter() - began
        live = cluster.live()
        try:
            measure(run, topo, live, cluster.node, args.changes, clock, [p.log_path for p in cluster.procs.procs])
        finally:
            live.close()
        if args.idle_namespaces:
            idle_and_ingest(topo, args, cluster, cluster.procs, results)
    return run


def idle_and_ingest(
    topo: Topology, args: argparse.Namespace, cluster: Cluster, procs: Processes, results: dict[str, Any]
) -> None:
    """A fresh agent (new node) at --idle-namespaces: idle CPU and RSS, then its snapshot's ingest."""
    assert cluster.worker is not None and cluster.agent is not None
    cluster.agent.stop()
    cluster.worker.stop()
    kernel = KernelEvents()
    if args.idle_namespaces > args.namespaces:
        seconds = build(topo, args.namespaces, args.idle_namespaces)
        print(f"built namespaces {args.namespaces}..{args.idle_namespaces} in {seconds:.1f} s", flush=True)
        # link-locals, operstate, then the bridge ports' state change a forward delay later
        print(kernel.wait_quiet(bridge_forward_delay(topo, bridge_name(topo, 0)) + 1.0), flush=True)
    redis_client(cluster.redis_url).delete("ingest")
    node = f"bench-idle-{secrets.token_hex(2)}"
    key = last_line(manage(cluster.env(), "nsmap_node", "add", node))
    env = cluster.env(NODE_NAME=node, NSMAP_NODE_KEY=key)
    agent = procs.add("agent-idle", [PYTHON, "-m", "agent", "run"], env).start()
    assert agent.pid is not None
    wait_until(lambda: cluster.waiting_messages(node), 120, "the idle agent's snapshot in its inbox", procs)
    time.sleep(args.idle_warmup)
    kernel.count()
    cpu0, t0 = cpu_seconds(agent.pid), time.perf_counter()
    rss_max = 0.0
    while time.perf_counter() - t0 < args.idle_seconds:
        procs.check_alive()
        rss_max = max(rss_max, memory_mb(agent.pid)["VmRSS"])
        time.sleep(1)
    cpu1, t1 = cpu_seconds(agent.pid), time.perf_counter()
    results["idle"] = {
        "namespaces": args.idle_namespaces,
        "cpu_percent": 100 * (cpu1 - cpu0) / (t1 - t0),
        "rss_mb": memory_mb(agent.pid)["VmRSS"],
        "rss_max_mb": rss_max,
        "seconds": t1 - t0,
        "kernel_events": kernel.count(),  # anything else changing on this shared host
    }
    # The snapshot waits in the inbox (no worker ran meanwhile), with the deltas that followed
    # it; the worker applies them in one transaction. The trace line of the snapshot's patch
    # (found by the message's time) says how long the snapshot's own part took, plus the commit.
    snapshot = next(m for m in cluster.waiting_messages(node) if m.type == "snapshot")
    stats = json.loads(snapshot.body)
    worker = cluster.start_worker()

    def ingested() -> float | None:
        for fields in read_traces([worker.log_path]).values():
            if fields.get("agent") == stats["time"] and "commit" in fields:
                return fields["applied"] - fields["group"] + fields["commit"] - fields["written"]
        return None

    seconds = wait_until(ingested, 300, f"the ingest of {node}'s snapshot", procs, interval=0.2)
    results["ingest"] = {
        "namespaces": len(stats.get("namespaces", [])),
        "interfaces": len(stats.get("interfaces", [])),
        "seconds": seconds,
    }
    agent.stop()


def report(runs: list[Run], results: dict[str, Any]) -> bool:
    """Print the figures; True when every target is met."""
    ok = True
    print("\n== latency: `ip link add` returned -> patch on the WebSocket (ms) ==")
    head = f"{'mode':<12}{'n':>5}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}  {'target p50/p99':<16}{'met':<5}"
    print(head + f"{'startup s':>10}")
    for run in runs:
        p50, p99 = pct(run.latency_ms, 50), pct(run.latency_ms, 99)
        t50, t99 = TARGETS[run.mode]
        met = p50 <= t50 and p99 <= t99 and not run.missed
        ok &= met
        print(
            f"{run.mode:<12}{len(run.latency_ms):>5}{p50:>9.2f}{pct(run.latency_ms, 90):>9.2f}{p99:>9.2f}"
            f"{max(run.latency_ms, default=float('nan')):>9.2f}  {f'{t50:.0f} / {t99:.0f}':<16}"
            f"{'yes' if met else 'NO':<5}{run.startup_s:>10.1f}"
        )
        if run.missed:
            print(f"  {len(run.missed)} changes never arrived within {CHANGE_TIMEOUT:.0f} s: {run.missed[:5]}")
    print("\n== baselines in the same run (ms) and ratios ==")
    for run in runs:
        ip50, nl50 = pct(run.ip_ms, 50), pct(run.netlink_ms, 50)
        p50, p99 = pct(run.latency_ms, 50), pct(run.latency_ms, 99)
        print(
            f"{run.mode:<12}`ip link add` itself p50 {ip50:.2f} p99 {pct(run.ip_ms, 99):.2f}; "
            f"RTM_NEWLINK in-process p50 {nl50:+.3f} p99 {pct(run.netlink_ms, 99):+.3f} (after the return)"
        )
        ip99 = pct(run.ip_ms, 99)
        print(f"{'':<12}latency p50 / `ip link add` p50 = {p50 / ip50:.1f}x; p99 / ip p99 = {p99 / ip99:.1f}x")
    print("\n== where the time goes (server trace lines, wall clock; NSMAP_TRACE=1) ==")
    for run in runs:
        print("\n".join(breakdown(run)))
    by_mode = {r.mode: r for r in runs}
    if len(by_mode) == 2:
        e, d = by_mode["embedded"], by_mode["distributed"]
        print(
            f"distributed / embedded: p50 {pct(d.latency_ms, 50) / pct(e.latency_ms, 50):.1f}x, "
            f"p99 {pct(d.latency_ms, 99) / pct(e.latency_ms, 99):.1f}x"
        )
    if "idle" in results:
        idle = results["idle"]
        met = idle["cpu_percent"] < 1.0 and idle["rss_max_mb"] < 100
        ok &= met
        print(
            f"\n== agent idle at {idle['namespaces']} namespaces ({idle['seconds']:.0f} s, reconciles included) ==\n"
            f"CPU {idle['cpu_percent']:.2f}% of one core (target < 1%), RSS {idle['rss_mb']:.1f} MB "
            f"(max {idle['rss_max_mb']:.1f}; target < 100 MB): {'met' if met else 'NOT met'}; "
            f"kernel events during it: {idle['kernel_events']}"
        )
    if "ingest" in results:
        ing = results["ingest"]
        met = ing["seconds"] < 2.0
        ok &= met
        print(
            f"\n== ingest of a fresh node's snapshot (Celery worker, PostgreSQL; its own part + the commit) ==\n"
            f"{ing['namespaces']} namespaces / {ing['interfaces']} interfaces in {ing['seconds']:.3f} s "
            f"(target < 2 s): {'met' if met else 'NOT met'}"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--mode", choices=["embedded", "distributed", "both"], default="both")
    parser.add_argument("--idle-namespaces", type=int, default=1000, help="0 skips idle and ingest")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--idle-warmup", type=float, default=5.0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/latency.py builds namespaces: run it as root", file=sys.stderr)
        return 2
    install_signal_teardown()
    os.environ["NSMAP_TRACE"] = "1"  # every server process logs its trace lines (webui/live/trace.py)
    log_dir = Path(tempfile.mkdtemp(prefix="nsmap-latency-"))
    print(f"process logs in {log_dir}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    runs: list[Run] = []
    results: dict[str, Any] = {}
    clock = NetlinkClock()
    with Topology() as topo:
        seconds = build(topo, 0, args.namespaces)
        print(f"built {args.namespaces} namespaces ({topo.prefix}*) in {seconds:.1f} s", flush=True)
        time.sleep(3)
        phases: list[tuple[str, Callable[[], Run]]] = []
        if args.mode in ("embedded", "both"):
            phases.append(("embedded", lambda: run_embedded(topo, args, clock, log_dir)))
        if args.mode in ("distributed", "both"):
            phases.append(("distributed", lambda: run_distributed(topo, args, clock, log_dir, results)))
        for name, phase in phases:
            print(f"-- {name}: {args.changes} changes ...", flush=True)
            runs.append(phase())
        clock.close()
        print("tearing down the namespaces ...", flush=True)
    ok = report(runs, results)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (other work on the machine inflates every figure)")
    if args.json:
        data = {
            r.mode: {"latency_ms": r.latency_ms, "ip_ms": r.ip_ms, "netlink_ms": r.netlink_ms, "moments": r.moments}
            for r in runs
        }
        Path(args.json).write_text(json.dumps({**data, **results}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
