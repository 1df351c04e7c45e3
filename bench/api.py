"""Time GET /api/v1/topology/ on a synthetic graph (default 1,000 namespaces on one host).

Fills a throw-away SQLite database through the real ingest (tests.factories' inventory, as
bench/ingest.py does), then times the endpoint through Django's test client with a Bearer
token, plain and gzipped, against a baseline in the same process: the bare graph read
(webui.topology.queries.load_graph) plus json.dumps of its dict. The ratio is what the HTTP
layer (auth, view, renderer, gzip) adds on top of reading and encoding the graph.

    .venv/bin/python -m bench.api [--namespaces 1000] [--repeat 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

from bench.measure import pct, scratch_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=21, help="timed requests of each kind")
    args = parser.parse_args()
    with scratch_django(None, NSMAP_STALE_AFTER="3600"):  # no host turns stale while the bench runs
        return run(args)


def run(args: argparse.Namespace) -> int:
    import json

    from django.contrib.auth.models import User
    from django.test import Client

    from tests.factories import FakeAgent, make_inventory
    from webui.accounts.models import Token
    from webui.topology import ingest
    from webui.topology.queries import load_graph

    inventory = make_inventory("bench", args.namespaces, neighbours=True)
    result = ingest.ingest(FakeAgent("bench").snapshot(inventory)[0], None, trusted=True)
    assert result.status == "applied", result
    token = Token.issue(User.objects.create_user("bench-viewer"))[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(headers: dict[str, str] | None = None) -> int:
        response = client.get("/api/v1/topology/", headers=headers)
        assert response.status_code == 200, response.status_code
        return len(response.content)

    kinds: list[tuple[str, Callable[[], int]]] = [
        ("baseline: load_graph + json.dumps", lambda: len(json.dumps(load_graph()).encode())),
        ("GET /api/v1/topology/", get),
        ("GET /api/v1/topology/ (Accept-Encoding: gzip)", lambda: get({"Accept-Encoding": "gzip"})),
    ]
    wall: dict[str, list[float]] = {label: [] for label, _ in kinds}
    cpu: dict[str, list[float]] = {label: [] for label, _ in kinds}
    size: dict[str, int] = {}
    for _label, call in kinds:
        call()  # warm: imports, query plans, caches
    for _ in range(args.repeat):  # interleaved, so that load from elsewhere hits every kind alike
        for label, call in kinds:
            start, cpu_start = time.perf_counter(), time.process_time()
            size[label] = call()
            wall[label].append(time.perf_counter() - start)
            cpu[label].append(time.process_time() - cpu_start)
    base_wall, base_cpu = (statistics.median(v[kinds[0][0]]) for v in (wall, cpu))
    print(
        f"api bench: {len(inventory.namespaces)} namespaces, {len(inventory.interfaces)} interfaces, "
        f"{args.repeat} runs each (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; "
        "cpu = this process, which runs the server side too)"
    )
    print(f"  {'':<48} {'median':>8} {'p90':>8} {'ratio':>6} {'cpu':>8} {'ratio':>6} {'bytes':>10}")
    for label, _ in kinds:
        median, cpu_median = statistics.median(wall[label]), statistics.median(cpu[label])
        print(
            f"  {label:<48} {median * 1000:6.0f}ms {pct(wall[label], 90) * 1000:6.0f}ms {median / base_wall:6.2f}"
            f" {cpu_median * 1000:6.0f}ms {cpu_median / base_cpu:6.2f} {size[label]:>10,}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
