#!/usr/bin/env python3
"""Lab-verb latency on the agent: nsmap's veth.create / link.delete against pyroute2 doing the same.

    sudo .venv/bin/python -m bench.actions [--pairs 100]

In two namespaces of its own (tests/kernel_topology.py, unique "nsm" prefix, torn down after,
also on failure), it times, in one process:
  (a) nsmap: agent/actions.py ``Actions.run`` of veth.create (a in A, b in B, both up) and of
      link.delete, each verb parsed by agent/verbs.py first: checks, temporary names in root,
      move, rename, mark, undo bookkeeping, on the helper thread with its kept sockets;
  (b) the floor with the same library: pyroute2 creating the pair directly with its ends in A
      and B (peer net_ns_fd), bringing both up, and deleting it, on sockets opened once.
Prints p50/p99 of each and the ratio a/b. The page-level figure (API call -> edge on the page)
needs the dashboard's drag-to-link, which this branch does not have.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

from bench.measure import pct
from tests.kernel_topology import Topology, install_signal_teardown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/actions.py needs root (it builds namespaces)", file=sys.stderr)
        return 2
    from pyroute2 import IPRoute

    from agent.actions import Actions
    from agent.verbs import parse_args

    install_signal_teardown()
    with Topology() as topo:
        a, b = topo.add_netns("a"), topo.add_netns("b")
        actions = Actions("bench")
        create_ours, delete_ours = [], []
        try:
            for i in range(args.pairs):
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
            for i in range(args.pairs):
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

    print(f"{args.pairs} pairs between two namespaces")
    print(line("veth.create", create_ours, create_floor))
    print(line("link.delete", delete_ours, delete_floor))
    left = topo.leftovers()
    print("nothing left behind" if not left else f"LEFT BEHIND: {left}")
    return 0 if not left else 1


if __name__ == "__main__":
    sys.exit(main())
