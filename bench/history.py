"""Time travel at scale: 1,000 namespaces and 1,000,000 change records.

Fills a throw-away database (SQLite by default, or PostgreSQL beside --pg URL): one host with
--namespaces namespaces ingested for real, then --records change records spread over --days days
(MTU and state flips of random interfaces, written in bulk the way the ingest writes them), then
the checkpoints the periodic task would have written. Then times, against the live graph read in
the same process as the baseline (ratios; this machine is noisy):
- the topology at an arbitrary moment (targets: 300 ms on PostgreSQL),
- a diff between two moments a day apart (500 ms),
- the first page of the change log, unfiltered and filtered (200 ms).

    .venv/bin/python -m bench.history [--pg postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from bench.measure import pct, scratch_django

TARGETS_MS = {"topology at a moment": 300, "diff of two moments a day apart": 500, "first page": 200}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=30.0, help="the span the records cover")
    parser.add_argument("--pg", help="PostgreSQL URL of an existing database; a scratch database is made beside it")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each measurement")
    args = parser.parse_args()

    with scratch_django(args.pg):
        return run(args)


def fill(args: argparse.Namespace) -> tuple[Any, Any]:
    """The host, then the records; returns the time span they cover."""
    from django.db import transaction
    from django.utils import timezone

    from tests.factories import FakeAgent, make_inventory
    from webui.changelog.models import ChangeRecord
    from webui.changelog.replay import changed_groups
    from webui.topology import ingest as ingest_module
    from webui.topology.bulk import fast_insert
    from webui.topology.models import GraphVersion

    inventory = make_inventory("bench", args.namespaces, neighbours=True)
    agent = FakeAgent("bench")
    assert ingest_module.ingest(agent.snapshot(inventory)[0], None, trusted=True).status == "applied"
    # the host appeared --days ago; the records follow it up to now
    start = timezone.now() - timedelta(days=args.days)
    ChangeRecord.objects.update(time=start)
    current = {r.key: asdict(r) for r in inventory.interfaces}
    keys = sorted(current)
    rng = random.Random(7)
    graph_seq = GraphVersion.objects.get(pk=1).seq
    existing = ChangeRecord.objects.count()
    step = timedelta(days=args.days) / args.records
    chunk = 20_000
    began = time.perf_counter()
    for base in range(0, args.records - existing, chunk):
        rows = []
        for i in range(base, min(base + chunk, args.records - existing)):
            key = rng.choice(keys)
            before = current[key]
            after = dict(before)
            if i % 2:
                after["mtu"] = 1500 if before["mtu"] != 1500 else 9000
            else:
                after["operstate"], after["up"] = ("DOWN", False) if before["up"] else ("UP", True)
            current[key] = after
            graph_seq += 1
            rows.append(
                {
                    "time": start + step * (i + 1),
                    "observed": None,
                    "node": "bench",
                    "object_kind": "interface",
                    "object_key": key,
                    "object_id": f"bench/{key}",
                    "name": after["name"],
                    "action": "changed",
                    "before": before,
                    "after": after,
                    "fields": changed_groups("changed", before, after),
                    "actor": "agent:bench" if i % 10 else "user:alice",
                    "request_id": None,
                    "run": agent.run,
                    "seq": 1_000_000 + i,
                    "position": 0,
                    "graph_seq": graph_seq,
                }
            )
        with transaction.atomic():
            fast_insert(ChangeRecord, rows)
        done = base + len(rows)
        if done % 200_000 < chunk:
            print(f"  ... {done + existing} records ({time.perf_counter() - began:.0f} s)", flush=True)
    GraphVersion.objects.filter(pk=1).update(seq=graph_seq)
    from django.db import connection

    with connection.cursor() as cursor:  # the statistics autovacuum keeps on a live database
        cursor.execute("ANALYZE")
    return start, start + step * args.records


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from webui.changelog.models import ChangeRecord, Checkpoint
    from webui.changelog.timetravel import diff_between, graph_at, take_checkpoints
    from webui.topology.queries import load_graph

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"history bench ({engine}): {args.namespaces} namespaces, {args.records:,} records over {args.days:g} days"
        f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus)",
        flush=True,
    )
    began = time.perf_counter()
    start, end = fill(args)
    print(f"  filled in {time.perf_counter() - began:.0f} s: {ChangeRecord.objects.count():,} records", flush=True)
    began = time.perf_counter()
    written = take_checkpoints(force=True)
    print(
        f"  {written} checkpoints written in {time.perf_counter() - began:.0f} s"
        f" (every {settings.NSMAP_CHECKPOINT_RECORDS} records)",
        flush=True,
    )
    assert Checkpoint.objects.count() == written

    rng = random.Random(11)
    span = end - start
    baseline = timed(load_graph, args.repeat)
    base_ms = statistics.median(baseline)
    print(f"  {'(median and p90 of ' + str(args.repeat) + ' runs)':<44} {'median':>8} {'p90':>8}  ratio to baseline")
    print(f"  {'baseline: the live graph (load_graph)':<44} {base_ms:8.0f} {pct(baseline, 90):8.0f} ms")
    failed = []

    def report(label: str, runs: list[float], target: str) -> None:
        median, p90 = statistics.median(runs), pct(runs, 90)
        limit = TARGETS_MS[target]
        verdict = "ok" if median <= limit else f"OVER {limit} ms"
        if median > limit:
            failed.append(label)
        print(f"  {label:<44} {median:8.0f} {p90:8.0f} ms  {median / base_ms:5.2f}x  (target {limit} ms: {verdict})")

    def moment() -> Any:
        return start + span * rng.random()

    report("topology at a random moment", timed(lambda: graph_at(moment()), args.repeat), "topology at a moment")

    def day_apart() -> Any:
        first = start + (span - timedelta(days=1)) * rng.random()
        return diff_between(first, first + timedelta(days=1))

    report("diff of two moments a day apart", timed(day_apart, args.repeat), "diff of two moments a day apart")

    user = get_user_model().objects.create_superuser("bench", password="x" * 12)
    client = Client()
    client.force_login(user)
    key = ChangeRecord.objects.order_by("-id").values_list("object_id", flat=True).first()
    # as the history page asks: 50 records, no count (static/nsmap/history.js)
    for label, query in (
        ("first page, unfiltered", ""),
        ("first page, one interface by name", "&interface=eth0"),
        ("first page, one object's timeline", f"&key={key}"),
        ("first page, the users' commands", "&actor=user"),
        ("first page, MTU changes", "&field=mtu"),
        ("first page, one node and action", "&node=bench&action=changed"),
    ):

        def page(query: str = query) -> None:
            response = client.get("/api/v1/changes/?count=false&page_size=50" + query)
            assert response.status_code == 200, response.content[:200]

        report(label, timed(page, args.repeat), "first page")
    print("all targets met" if not failed else f"targets missed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
