"""What the benchmarks measure with: percentiles, a process's CPU and memory, and the kernel's
own events (so that "idle" is checked, not assumed)."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator

from agent.netlink import EventSocket, Overflow
from tests.kernel_topology import Topology


def pct(values: list[float], q: float) -> float:
    """The q-th percentile of ``values`` by nearest rank (the ceil(q/100 * n)-th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]


QUIET = 5.0  # seconds without a kernel event before the host counts as idle


class KernelEvents:
    """What the kernel announced (links, addresses, namespace ids, in every namespace), counted
    by the bench itself: "nothing changing" is checked on the kernel's side too."""

    def __init__(self) -> None:
        self.socket = EventSocket()
        self.socket.setblocking(False)

    def count(self) -> int:
        """Events since the last call (an overflow counts as many)."""
        seen = 0
        while True:
            try:
                seen += len(self.socket.read())
            except BlockingIOError:
                return seen
            except Overflow:
                seen += 1_000_000

    def wait_quiet(self, at_least: float, timeout: float = 120.0) -> str:
        """Wait ``at_least`` seconds, then until QUIET seconds pass without an event; says how it went."""
        began = time.monotonic()
        time.sleep(at_least)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < QUIET:
            if time.monotonic() - began > timeout:
                return f"the kernel was still announcing changes {timeout:.0f}s after the build (not idle)"
            time.sleep(0.5)
            if self.count():
                quiet_since = time.monotonic()
        return f"the kernel went quiet {time.monotonic() - began:.1f}s after the build"


def bridge_forward_delay(topo: Topology, name: str) -> float:
    """A root bridge's forward delay in seconds: its ports announce a state change that long
    after they join, STP or not (a burst of one event per port). From `ip`, not /sys: /sys
    shows the namespace that mounted it, not a sandbox's."""
    return topo.link(topo.root, name)["linkinfo"]["info_data"]["forward_delay"] / 100.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (every thread), in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return out


@contextlib.contextmanager
def scratch_django(pg: str | None, **env: str) -> Iterator[None]:
    """Django in embedded settings (``env`` added to the environment) set up, quiet below
    warnings, and migrated on a throw-away database: a SQLite file, or a PostgreSQL database made
    beside ``pg`` (a URL of an existing one) and dropped afterwards."""
    import tempfile
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    scratch_db = None
    with tempfile.TemporaryDirectory(prefix="nsmap-bench-") as tmp:
        if pg:
            import psycopg

            scratch_db = f"nsmap_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{scratch_db}"')
            os.environ["DATABASE_URL"] = urlunsplit(urlsplit(pg)._replace(path="/" + scratch_db))
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ.pop("REDIS_URL", None)
        os.environ["NODE_NAME"] = "bench"
        os.environ["ALLOWED_HOSTS"] = "testserver"  # Django's test client asks for this host
        os.environ["NSMAP_VAR_DIR"] = tmp
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")
        os.environ.update(env)
        try:
            import logging

            import django
            from django.core.management import call_command

            django.setup()
            logging.disable(logging.INFO)
            call_command("migrate", verbosity=0)
            yield
        finally:
            from django.db import connections

            connections.close_all()
            if scratch_db:
                import psycopg

                with psycopg.connect(pg, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{scratch_db}" WITH (FORCE)')
