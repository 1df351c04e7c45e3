"""Shared fixtures: for every directory ``topo`` (a real topology) and ``private_redis``; for the
server tests (tests/webui) and the end-to-end tests the rest.

Nothing here is autouse: every directory loads this file and takes only what its tests ask for.
The naming guard (below) makes a test function not named ``test_it_*`` fail the run instead of
being silently left out (pyproject.toml collects only ``test_it_*``).
- ``topo``: a tests.kernel_topology.Topology with a fresh, free prefix, closed after the test even
  if it failed. It needs root: ``needs_root`` skips the test, naming root, otherwise (tests/e2e
  words the skip its own way; tests/agent also fails a test that left anything of it behind).
- ``private_redis``: a redis-server of the test's own on a free port (harness.PrivateRedis),
  started, and killed after the test; ``stop()`` and ``start()`` restart it empty on that port.

Run the server tests against PostgreSQL with DATABASE_URL=postgres://postgres@127.0.0.1:5432/nsmap
(pytest-django creates and drops test_nsmap); tests/webui/test_postgres_suite.py does that for a
representative set of modules in every run when PostgreSQL is reachable.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.distributed.harness import REDIS_SERVER, PrivateRedis, Processes
from tests.factories import FakeAgent
from tests.kernel_topology import Topology, require_root

# -- the naming guard ------------------------------------------------------------------------------

MISNAMED = pytest.StashKey[list[str]]()


def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Note every function in a test module (or test class) that looks like a test but is not
    named test_it_*; pytest itself would skip it without a word."""
    if name.startswith("test") and not name.startswith("test_it_") and inspect.isfunction(obj):
        collector.config.stash.setdefault(MISNAMED, []).append(f"{collector.nodeid}::{name}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misnamed = config.stash.get(MISNAMED, [])
    if misnamed:
        raise pytest.UsageError(
            "these look like tests but are not named test_it_* (the rule in pyproject.toml), so they "
            "would never run: " + ", ".join(misnamed)
        )


@pytest.fixture
def needs_root() -> None:
    """Skip the test, naming root, when not run as root (a directory may override the wording)."""
    require_root()


@pytest.fixture
def topo(needs_root: None) -> Iterator[Topology]:
    """A Topology with a fresh prefix, closed after the test even if it failed."""
    with Topology() as topology:
        yield topology


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A started redis-server of the test's own (never the machine's shared one), killed after
    the test; one that does not answer in time is killed at once (PrivateRedis.start)."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"{REDIS_SERVER} is not installed")
    procs = Processes(tmp_path)
    try:
        yield PrivateRedis(procs).start()
    finally:
        procs.close()


@pytest.fixture
def sent_commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Commands the server sends to agents, as (node, parsed body), instead of sending them."""
    import json

    from webui.topology import agents

    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(agents, "send_command", lambda node, body: sent.append((node, json.loads(body))))
    return sent


@pytest.fixture
def node_key(db: Any) -> str:
    """Node "h1" registered with a key, as `manage.py nsmap_node add h1` does."""
    from webui.topology.models import Node

    key = "k" * 8 + "test-node-key-h1-0123456789"
    Node.objects.create(name="h1", key=key)
    return key


@pytest.fixture
def agent(node_key: str) -> FakeAgent:
    """A signing fake agent for the registered node h1."""
    return FakeAgent("h1", key=node_key)


@pytest.fixture
def local_agent(settings: Any) -> FakeAgent:
    """The embedded in-process agent (trusted: no key) for this server's NODE_NAME."""
    return FakeAgent(settings.NODE_NAME)


@pytest.fixture
def viewer(db: Any) -> Any:
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("viewer1", password="pw-viewer-1")
    user.groups.add(Group.objects.get_or_create(name="viewer")[0])  # transactional tests flush data migrations
    return user


@pytest.fixture
def api_token(viewer: Any) -> str:
    from webui.accounts.models import Token

    return Token.issue(viewer)[1]


@pytest.fixture
def api(client: Any, api_token: str) -> Any:
    """A Django test client that sends the viewer's Bearer token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token}"
    return client


@pytest.fixture
def ingest(db: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """``ingest(body, signature, **kw)`` that also runs its on-commit callbacks (broadcast, resync
    request) at once, as a real commit would; the test's transaction never commits."""
    from webui.topology.ingest import ingest as service

    def call(message: tuple[str, str | None] | str, signature: str | None = None, **kw: Any) -> Any:
        body, sig = message if isinstance(message, tuple) else (message, signature)
        with django_capture_on_commit_callbacks(execute=True):
            return service(body, sig, **kw)

    return call


@pytest.fixture
def patches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Patches the ingest and liveness broadcasts, captured instead of sent."""
    from webui.topology import apply, liveness

    sent: list[dict[str, Any]] = []
    for module in (apply, liveness):
        monkeypatch.setattr(module, "broadcast_patch", sent.append)
    return sent
