"""Idle cost of the live agent with N namespaces watched, and its event -> publish latency.

    python bench/agent_idle.py [--namespaces 1000] [--seconds 30] [--changes 100]

Builds N namespaces (unique prefix, each with a veth to the root namespace, host end up, as a
container host has them), then runs the agent (watcher + publisher with a CallableTransport that only
counts) in a child process so that the figures are the agent's alone: CPU (utime + stime from
/proc/self/stat) over ``--seconds`` of nothing changing, and resident memory (VmRSS, VmHWM).
Then ``--changes`` times: `ip link add` a veth pair in the root namespace and time from its
return to the transport receiving the delta that carries it. Tears everything down, also on
failure or SIGTERM. Targets (issue 3): idle < 1% of one core and < 100 MB.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def cpu_seconds() -> float:
    with open("/proc/self/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def memory_kb() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def child(seconds: float, changes: int, prefix: str, reconcile: float) -> None:
    """Runs in the child: the agent alone in this process."""
    from agent.publisher import CallableTransport
    from agent.runner import AgentRunner

    seen: dict[str, float] = {}
    counts = {"snapshot": 0, "delta": 0, "heartbeat": 0}
    changed: collections.Counter[str] = collections.Counter()  # what moved while "idle"
    lock = threading.Condition()

    def receive(body: str, _signature: str | None) -> None:
        now = time.monotonic()
        message = json.loads(body)
        counts[message["type"]] += 1
        if message["type"] == "delta":
            for change in message["changes"]:
                data = change.get("data") or {}
                changed[f"{change['op']} {change['kind']} {data.get('name', change['key'])[:12]}"] += 1
            with lock:
                for change in message["changes"]:
                    name = (change.get("data") or {}).get("name", "")
                    if name.startswith(prefix) and name not in seen:
                        seen[name] = now
                lock.notify_all()

    started = time.monotonic()
    runner = AgentRunner(CallableTransport(receive), "bench", reconcile_seconds=reconcile, heartbeat_seconds=5.0)
    runner.start()
    startup = time.monotonic() - started
    inventory = runner.watcher.state.inventory()
    time.sleep(3.0)  # let the first snapshot go and operstate settle
    changed.clear()
    runner.watcher.cpu.clear()
    cpu0, t0 = cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = cpu_seconds(), time.monotonic()
    top = changed.most_common(5)
    idle = {
        "namespaces": len(inventory.namespaces),
        "interfaces": len(inventory.interfaces),
        "startup_s": round(startup, 3),
        "idle_window_s": round(t1 - t0, 1),
        "idle_cpu_percent_of_one_core": round(100.0 * (cpu1 - cpu0) / (t1 - t0), 3),
        **{k: v // 1024 for k, v in memory_kb().items()},  # MB
        "reconciles_in_window": runner.watcher.stats["reconciles"],
        "messages": dict(counts),
        "changes_in_window": sum(changed.values()),
        "most_changed": top,
        "watcher": dict(runner.watcher.stats),
        "watcher_cpu_ms_in_window": {k: round(v * 1000, 1) for k, v in runner.watcher.cpu.items()},
    }
    latencies = []
    for n in range(changes):
        name = f"{prefix}L{n}"
        argv = ["ip", "link", "add", name, "type", "veth", "peer", "name", f"{prefix}M{n}"]
        subprocess.run(argv, check=True, capture_output=True)
        returned = time.monotonic()
        with lock:
            lock.wait_for(lambda name=name: name in seen, timeout=5)
            if name in seen:
                latencies.append((seen[name] - returned) * 1000.0)
        time.sleep(0.01)
    runner.stop()
    if latencies:
        latencies.sort()
        idle["event_to_publish_ms"] = {
            "count": len(latencies),
            "p50": round(statistics.median(latencies), 2),
            "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "max": round(latencies[-1], 2),
        }
    print(json.dumps(idle))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--reconcile-seconds", type=float, default=30.0, help="the agent's default: 30")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.seconds, args.changes, args.child, args.reconcile_seconds)
        return 0

    from tests.kernel_topology import Topology, install_signal_teardown

    install_signal_teardown()
    with Topology() as topo:
        names = [f"{topo.prefix}n{i:04d}" for i in range(args.namespaces)]
        built = time.monotonic()
        topo.batch([f"netns add {n}" for n in names])
        topo.adopt_netns(names)
        topo.batch(
            [f"link add {topo.prefix}h{i:04d} type veth peer name eth0 netns {n}" for i, n in enumerate(names)]
            + [f"link set {topo.prefix}h{i:04d} up" for i in range(args.namespaces)]
        )
        print(f"built {args.namespaces} namespaces in {time.monotonic() - built:.1f}s (prefix {topo.prefix})")
        proc = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--child",
                topo.prefix,
                "--seconds",
                str(args.seconds),
                "--changes",
                str(args.changes),
                "--reconcile-seconds",
                str(args.reconcile_seconds),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=args.seconds + 600,
        )
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(result, indent=2))
        cpu_ok = result["idle_cpu_percent_of_one_core"] < 1.0
        rss_ok = result["VmRSS"] < 100
        print(
            f"idle CPU {result['idle_cpu_percent_of_one_core']}% of one core ({'ok' if cpu_ok else 'OVER'} < 1%), "
            f"RSS {result['VmRSS']} MB ({'ok' if rss_ok else 'OVER'} < 100 MB), peak {result['VmHWM']} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
