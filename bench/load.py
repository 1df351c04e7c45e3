#!/usr/bin/env python3
"""Load: many viewers on one server while the kernel keeps changing.

    sudo .venv/bin/python -m bench.load [--viewers 50] [--rate 100] [--seconds 60]
                                        [--baseline-seconds 10] [--ends 100]

Starts `manage.py nsmap_serve` (embedded: SQLite in a temp dir, the local agent, the in-memory
channel layer), makes ``--ends`` veth ends in the root namespace (unique "nsm" prefix, removed
after, also on SIGTERM) and flips them up and down round-robin, ``--rate`` changes per second,
with pyroute2 (one netlink request each). Every viewer is a WebSocket client (Bearer token,
like a browser) in this process; a viewer's latency for a change is from the moment the
request returned to the moment that viewer read a patch with the interface in its new state
(changes to one end merged by the agent's coalescing count once, for the last of them).

Two phases in one run: a baseline with one viewer for ``--baseline-seconds``, then
``--viewers`` viewers for ``--seconds``. Printed: patch latency p50/p99 over all viewers and
changes of each phase and the ratio of the loaded p99 to the baseline's; the server's RSS every
5 s of the loaded phase and its ratio to the RSS when the phase began; the load average.
Targets: p99 <= 100 ms with 50 viewers and 100 changes/s; RSS flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from bench.measure import cpu_seconds, memory_mb, pct
from tests.distributed.harness import EmbeddedServer, Processes
from tests.kernel_topology import Topology, install_signal_teardown

TARGET_P99_MS = 100.0


class Changes:
    """Per interface name, the (time, up) of every change made to it, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_name: dict[str, list[tuple[float, bool]]] = defaultdict(list)

    def add(self, name: str, up: bool, at: float) -> None:
        with self.lock:
            self.by_name[name].append((at, up))

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(made) for name, made in self.by_name.items()}

    def since(self, name: str, start: int) -> list[tuple[float, bool]]:
        with self.lock:
            return self.by_name[name][start:]


class Viewer:
    """One WebSocket client: for each interface, where it stands in that interface's changes."""

    def __init__(self, changes: Changes, names: set[str]) -> None:
        self.changes, self.names = changes, names
        # only changes made after this viewer began count: a patch may carry an interface that did
        # not change (a changed end's peer), whose last change an earlier phase made
        self.seen: dict[str, int] = defaultdict(int, changes.counts())
        self.latencies: list[float] = []
        self.patches = 0

    def read(self, text: str, now: float) -> None:
        message = json.loads(text)
        if message.get("type") != "patch":
            return
        self.patches += 1
        for interface in message.get("upsert", {}).get("interfaces", []):
            name = interface.get("name")
            if name not in self.names:
                continue
            pending = self.changes.since(name, self.seen[name])
            # the last change to this state is the one shown (earlier ones were merged)
            last = max((i for i, (_, up) in enumerate(pending) if up == interface["up"]), default=None)
            if last is not None:
                self.latencies.append((now - pending[last][0]) * 1000)
                self.seen[name] += last + 1


async def run_viewers(url: str, token: str, viewers: list[Viewer], stop: threading.Event, ready: threading.Event):
    from websockets.asyncio.client import connect

    async def one(viewer: Viewer) -> None:
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None) as ws:
            first = json.loads(await ws.recv())
            assert first["type"] == "graph", first["type"]
            ready_count.append(1)
            if len(ready_count) == len(viewers):
                ready.set()
            while not stop.is_set():
                try:
                    text = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                viewer.read(str(text), time.time())

    ready_count: list[int] = []
    await asyncio.gather(*(one(v) for v in viewers))


def phase(
    url: str, token: str, changes: Changes, ends: list[tuple[str, int]], count: int, seconds: float, rate: float, rss
):
    """``count`` viewers for ``seconds`` while flipping ``ends`` at ``rate``; returns (viewers, rss samples)."""
    from pyroute2 import IPRoute

    names = {name for name, _ in ends}
    viewers = [Viewer(changes, names) for _ in range(count)]
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(run_viewers(url, token, viewers, stop, ready)), name="viewers", daemon=True
    )
    thread.start()
    if not ready.wait(120):
        raise SystemExit("the viewers did not all get their first graph in 120 s")
    samples: list[tuple[float, float]] = []
    state = {name: True for name, _ in ends}
    with IPRoute() as ipr:
        start = time.monotonic()
        next_sample = start
        n = 0
        while (now := time.monotonic()) < start + seconds:
            if now >= next_sample:
                samples.append((now - start, rss()))
                next_sample += 5.0
            name, index = ends[n % len(ends)]
            state[name] = not state[name]
            ipr.link("set", index=index, state="up" if state[name] else "down")
            changes.add(name, state[name], time.time())
            n += 1
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    samples.append((time.monotonic() - start, rss()))
    time.sleep(2.0)  # the last patches arrive
    stop.set()
    thread.join(10)
    return viewers, samples, n


def report(label: str, viewers: list[Viewer], made: int) -> float:
    latencies = [ms for v in viewers for ms in v.latencies]
    p50, p99 = pct(latencies, 50), pct(latencies, 99)
    print(
        f"{label}: {len(viewers)} viewers, {made} changes, {len(latencies)} deliveries "
        f"({len(latencies) / max(1, made * len(viewers)):.0%} of changes x viewers; the rest merged), "
        f"patch latency p50 {p50:.1f} ms p99 {p99:.1f} ms"
    )
    return p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0, help="kernel changes per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--ends", type=int, default=100, help="veth ends flipped round-robin")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench/load.py needs root (it makes veths and runs the local agent)", file=sys.stderr)
        return 2
    install_signal_teardown()
    with tempfile.TemporaryDirectory(prefix="nsmap-load-") as tmp, Topology() as topo:
        ends: list[tuple[str, int]] = []
        for i in range(args.ends // 2):
            a, b = topo.name(f"a{i:03d}"), topo.name(f"b{i:03d}")
            topo.veth(a, topo.root, b, topo.root)
        from pyroute2 import IPRoute

        with IPRoute() as ipr:
            for i in range(args.ends // 2):
                for name in (topo.name(f"a{i:03d}"), topo.name(f"b{i:03d}")):
                    index = ipr.link_lookup(ifname=name)[0]
                    ipr.link("set", index=index, state="up")
                    ends.append((name, index))
        procs = Processes(Path(tmp))
        try:
            server = EmbeddedServer(
                Path(tmp), procs, NODE_NAME=f"load-{topo.prefix}", NSMAP_WS_MAX_PER_USER=str(args.viewers + 10)
            )
            url, token = f"ws://127.0.0.1:{server.port}/ws/topology/", server.token
            time.sleep(5.0)  # the agent's first snapshot
            pid = server.proc.pid
            assert pid is not None

            def rss() -> float:
                return memory_mb(pid)["VmRSS"]

            changes = Changes()
            base, _, base_made = phase(url, token, changes, ends, 1, args.baseline_seconds, args.rate, rss)
            base_p99 = report("baseline", base, base_made)
            cpu_server, cpu_bench, began = cpu_seconds(pid), time.process_time(), time.monotonic()
            loaded, samples, made = phase(url, token, changes, ends, args.viewers, args.seconds, args.rate, rss)
            wall = time.monotonic() - began
            p99 = report("loaded", loaded, made)
            print(
                f"CPU during the loaded phase: server {(cpu_seconds(pid) - cpu_server) / wall:.0%} of a core, "
                f"this bench (viewers and changes) {(time.process_time() - cpu_bench) / wall:.0%}"
            )
            print(f"p99 loaded / baseline: {p99 / base_p99:.2f}x (target p99 <= {TARGET_P99_MS:.0f} ms)")
            first = samples[0][1]
            print("server RSS (MB) during the loaded phase: " + ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in samples))
            peak = max(mb for _, mb in samples)
            print(f"RSS end / start: {samples[-1][1] / first:.2f}x, max / start: {peak / first:.2f}x")
            print("load average (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
            return 0 if p99 <= TARGET_P99_MS else 1
        finally:
            procs.close()


if __name__ == "__main__":
    sys.exit(main())
