"""Fixtures that run distributed mode for real (see harness.py for what runs and how it is isolated).

- ``dist_session`` (session): a migrated PostgreSQL database, a claimed Redis DB, an API token.
- ``procs`` (test): the test's process registry; every process is killed at teardown, and the
  tails of their logs are added to the report of a failing test.
- ``cluster`` (test): Daphne + Celery worker + agent on the shared Redis DB, started and online.
- ``make_cluster`` (test): the same, unstarted, optionally on a private redis-server.
- ``topo`` (tests/conftest.py): a kernel_topology.Topology (unique prefix, torn down after the test).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.distributed.harness import (
    Cluster,
    PrivateRedis,
    Processes,
    Session,
    open_session,
    reset_redis_db,
)
from tests.kernel_topology import require_root

REPO = Path(__file__).resolve().parents[2]

PROCS_KEY = pytest.StashKey[Processes]()


def _missing() -> str | None:
    """Why distributed mode cannot run here, or None."""
    if not (REPO / "manage.py").exists() or not (REPO / "webui" / "celery.py").exists():
        return "webui (manage.py, webui/celery.py) is not there yet"
    if not (REPO / "agent" / "runner.py").exists():
        return "agent/runner.py (python -m agent run) is not there yet"
    return None


@pytest.fixture(scope="session")
def dist_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    require_root()
    reason = _missing()
    if reason:
        pytest.skip(f"distributed mode: {reason}")
    log_dir = tmp_path_factory.mktemp("distributed")
    session, cleanup = open_session(log_dir)
    try:
        yield session
    finally:
        cleanup()


@pytest.fixture
def procs(request: pytest.FixtureRequest, dist_session: Session) -> Iterator[Processes]:
    log_dir = dist_session.log_dir / request.node.name[:80]
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    registry = Processes(log_dir)
    request.node.stash[PROCS_KEY] = registry
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture
def make_cluster(dist_session: Session, procs: Processes) -> Iterator[Callable[..., Cluster]]:
    """``make_cluster(private_redis=False)``: an unstarted Cluster (call ``.start()`` or parts)."""
    made: list[Cluster] = []

    def make(private_redis: bool = False) -> Cluster:
        if private_redis:
            cluster = Cluster(dist_session, procs, redis=PrivateRedis(procs).start())
        else:
            reset_redis_db(dist_session.redis_url)  # leftovers of an earlier test's processes
            cluster = Cluster(dist_session, procs)
        made.append(cluster)
        return cluster

    try:
        yield make
    finally:
        for cluster in made:
            cluster.close()


@pytest.fixture
def cluster(make_cluster: Callable[..., Cluster]) -> Cluster:
    return make_cluster().start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """A failing test's report carries the tails of every process log it started."""
    report = yield
    registry = item.stash.get(PROCS_KEY, None)
    if registry is not None and report.failed:
        lines = int(os.environ.get("NSMAP_LOG_LINES", "80"))
        for title, text in registry.report(lines):
            report.sections.append((title, text or "(empty log)"))
    return report
