"""Idle cost of the real live agent process: `python -m agent run` with N namespaces, nothing changing.

    .venv/bin/python -m bench.agent_idle [--namespaces 1000] [--seconds 90] [--baseline-seconds 60]
                                         [--reconcile-seconds 30] [--shared-host [--redis-url URL]]

The agent runs exactly as deployed: its own process, publishing through Celery/kombu to Redis at
127.0.0.1:6379 and consuming its command queue node.<NODE_NAME>. Its CPU is read from
/proc/PID/stat (utime + stime of all its threads) at the start and the end of a window of
nothing changing; the window is long enough for periodic reconciles (the default 90 s holds
three at the default 30 s). Resident memory is VmRSS / VmHWM from /proc/PID/status.

"Nothing changing" cannot be had on a shared machine (other runs make namespaces and links all
the time, and an agent sees the whole host), so by default the whole run happens in a host of
its own: `unshare --net --mount --pid` gives it its own root network namespace, /run/netns (a
tmpfs), /proc and a redis-server of its own on 127.0.0.1:6379; everything in it dies with it.
--shared-host measures on the machine itself instead (the machine's Redis, a claimed DB).

Baseline, in the same run: the same agent before our namespaces exist (what Celery, kombu,
heartbeats and the host's own namespaces cost). Then N namespaces are built (unique prefix; each
with a veth to a bridge in the root namespace and veths to its neighbours, addresses on them:
the topology bench/discovery.py builds); once the kernel has stopped
announcing their settling (link-locals, operstate, then each bridge port's state change a forward
delay later) a fresh agent is measured. Prints both and their ratio; targets: < 1% of one core
and < 100 MB with 1,000 namespaces. "Idle" is checked, not assumed: the kernel's events during
each window are counted by the bench's own netlink socket, and the messages the agent published
are read back from Redis. Tears everything down, also on failure or SIGTERM.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.inbox import INBOX_KEY
from bench.discovery import bridge_name, build
from bench.measure import KernelEvents, bridge_forward_delay, cpu_seconds, memory_mb
from tests.distributed.harness import (
    REDIS_SERVER,
    Proc,
    Processes,
    claim_redis_db,
    redis_client,
    release_redis_db,
    wait_until,
)
from tests.kernel_topology import Topology, install_signal_teardown

CPU_TARGET, RSS_TARGET_MB = 1.0, 100
SANDBOX = ["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "--kill-child"]
SETTLE = 5.0  # after the snapshot: the agent's start-up work is done


def read_published(client: Any, node: str, start: int) -> tuple[int, list[dict[str, Any]]]:
    """The protocol messages ``node`` published from index ``start`` of its inbox (items
    ``[body, signature]``; nobody drains this DB, so the inbox is the agent's whole output);
    returns the new length and the messages."""
    raw = client.lrange(INBOX_KEY.format(node=node), start, -1)  # RPUSH: oldest first
    return start + len(raw), [json.loads(json.loads(item)[0]) for item in raw]


def start_agent(procs: Processes, redis_url: str, node: str, reconcile: float) -> Proc:
    """`python -m agent run`, unsigned, in its own process group, logging to a file."""
    env = dict(os.environ, NODE_NAME=node, REDIS_URL=redis_url, NSMAP_RECONCILE_SECONDS=str(reconcile))
    env.pop("NSMAP_NODE_KEY", None)
    return procs.add(node, [sys.executable, "-m", "agent", "run"], env).start()


def measure(
    label: str, redis_url: str, seconds: float, reconcile: float, log_dir: Path, kernel: KernelEvents
) -> dict[str, Any]:
    """Start an agent, wait for its snapshot, let it settle, and measure a window of idling."""
    client = redis_client(redis_url)
    node = f"idle-{label}-{secrets.token_hex(3)}"
    offset = 0
    started = time.monotonic()
    procs = Processes(log_dir)
    agent = start_agent(procs, redis_url, node, reconcile)
    try:

        def published_snapshot() -> dict[str, Any] | None:
            nonlocal offset
            offset, messages = read_published(client, node, offset)
            return next((m for m in messages if m["type"] == "snapshot"), None)

        snapshot = wait_until(published_snapshot, 300, "the agent's snapshot", procs, interval=0.5, detail=agent.tail)
        startup = time.monotonic() - started
        time.sleep(SETTLE)
        offset, _ = read_published(client, node, offset)
        kernel.count()
        cpu0, t0 = cpu_seconds(agent.pid), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = cpu_seconds(agent.pid), time.monotonic()
        kernel_events = kernel.count()
        memory = memory_mb(agent.pid)
        threads = len(os.listdir(f"/proc/{agent.pid}/task"))
        _, window = read_published(client, node, offset)
    finally:
        procs.close()
    types = collections.Counter(m["type"] for m in window)
    changed = collections.Counter(
        f"{c['op']} {c['kind']} {((c.get('data') or {}).get('name') or c['key'])[:16]}"
        for m in window
        if m["type"] == "delta"
        for c in m["changes"]
    )
    stats = re.findall(r"watcher stats: (\{.*\})", agent.log())
    return {
        "label": label,
        "namespaces": len(snapshot["namespaces"]),
        "interfaces": len(snapshot["interfaces"]),
        "startup_s": round(startup, 2),
        "window_s": round(t1 - t0, 1),
        "cpu_percent_of_one_core": round(100.0 * (cpu1 - cpu0) / (t1 - t0), 3),
        **memory,
        "threads": threads,
        "kernel_events_in_window": kernel_events,
        "messages_in_window": dict(types),
        "changes_in_window": sum(changed.values()),
        "most_changed": changed.most_common(5),
        "watcher_at_exit": json.loads(stats[-1]) if stats else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=90.0, help="idle window with N namespaces (>= 60)")
    parser.add_argument("--baseline-seconds", type=float, default=60.0, help="idle window before; 0 skips it")
    parser.add_argument("--reconcile-seconds", type=float, default=30.0, help="the agent's default: 30")
    parser.add_argument("--redis-url", help="an empty Redis DB to use (default: claim one on 127.0.0.1:6379)")
    parser.add_argument("--shared-host", action="store_true", help="measure on this machine, not in a host of its own")
    parser.add_argument("--in-sandbox", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds < 2 * args.reconcile_seconds:
        parser.error("--seconds must hold at least two reconcile periods (--reconcile-seconds)")
    if not args.shared_host and not args.in_sandbox:
        if args.redis_url:
            parser.error("--redis-url needs --shared-host (the sandbox runs a Redis of its own)")
        argv = [*SANDBOX, sys.executable, "-m", "bench.agent_idle", "--in-sandbox", *sys.argv[1:]]
        return subprocess.run(argv, check=False).returncode

    install_signal_teardown()
    sandbox_redis = start_sandbox() if args.in_sandbox else None
    try:
        return run(args, parser)
    finally:
        if sandbox_redis is not None:
            sandbox_redis.kill()
            sandbox_redis.wait(10)


def start_sandbox() -> subprocess.Popen[bytes]:
    """In the fresh namespaces: loopback up, a private /run/netns, a redis-server on 127.0.0.1:6379."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    os.makedirs("/run/netns", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "nsmap-idle", "/run/netns"], check=True)
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", "6379", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            redis_client("redis://127.0.0.1:6379/0").ping()
            return server
        except Exception:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Baseline, build, loaded, report (in whichever host this process is)."""
    redis_url = args.redis_url or claim_redis_db(owner=f"bench/agent_idle.py pid {os.getpid()}")
    if args.redis_url and redis_client(redis_url).dbsize():
        parser.error(f"{redis_url} holds keys: give an empty DB (it is flushed at the end)")
    results: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="nsmap-idle-") as tmp:
            log_dir = Path(tmp)
            kernel = KernelEvents()
            if args.baseline_seconds > 0:
                results.append(
                    measure("baseline", redis_url, args.baseline_seconds, args.reconcile_seconds, log_dir, kernel)
                )
                print(json.dumps(results[-1]), flush=True)
            with Topology() as topo:
                seconds = build(topo, 0, args.namespaces)  # the topology bench/discovery.py and latency.py use
                print(f"built {args.namespaces} namespaces in {seconds:.1f}s (prefix {topo.prefix})")
                # operstate, IPv6 link-locals, then the bridge ports' state change: idle after those
                print(kernel.wait_quiet(bridge_forward_delay(topo, bridge_name(topo, 0)) + 1.0), flush=True)
                results.append(measure("loaded", redis_url, args.seconds, args.reconcile_seconds, log_dir, kernel))
                print(json.dumps(results[-1]), flush=True)
    finally:
        release_redis_db(redis_url)
    loaded = results[-1]
    cpu, rss = loaded["cpu_percent_of_one_core"], loaded["VmRSS"]
    line = (
        f"agent idle with {loaded['namespaces']} namespaces: CPU {cpu}% of one core "
        f"({'ok' if cpu < CPU_TARGET else 'OVER'} < {CPU_TARGET}%), RSS {rss} MB "
        f"({'ok' if rss < RSS_TARGET_MB else 'OVER'} < {RSS_TARGET_MB} MB), peak {loaded['VmHWM']} MB"
    )
    if len(results) == 2:
        base = results[0]
        ratio = cpu / base["cpu_percent_of_one_core"] if base["cpu_percent_of_one_core"] else float("inf")
        line += (
            f"; baseline ({base['namespaces']} namespaces) CPU {base['cpu_percent_of_one_core']}%, "
            f"RSS {base['VmRSS']} MB: ratio loaded/baseline CPU {ratio:.2f}x, RSS {rss / base['VmRSS']:.2f}x"
        )
    print(line)
    busy = [r["label"] for r in results if r["changes_in_window"] or r["kernel_events_in_window"]]
    if busy:
        print(
            f"NOT IDLE: the host changed during the {' and '.join(busy)} window(s) (see kernel_events_in_window, "
            "changes_in_window, most_changed): something else was making namespaces or links; run again when quiet"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
