"""Fixtures for the agent's kernel tests: a real topology that cleans up, and a fresh scan of it.

``topo`` is the shared one (tests/conftest.py: real namespaces, tests/kernel_topology.py), and
here it also fails the test's teardown if anything of it is left; ``scan()`` runs the agent's
real discovery (the live agent's code path); ``watcher`` is the live agent's Watcher driven from
the test's thread (tests/agent/watch_support.py). Kernel tests skip, with a reason naming
root, when not run as root.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.agent.inventory_view import View
from tests.kernel_topology import Topology


@pytest.fixture
def topo(topo: Topology) -> Iterator[Topology]:
    """The shared ``topo`` (tests/conftest.py), closed here first to check nothing of it is left
    (close() is idempotent: the shared fixture's own close afterwards does nothing)."""
    yield topo
    topo.close()
    left = topo.leftovers()
    assert not left, f"kernel_topology left these behind: {left}"


@pytest.fixture
def scan() -> Callable[[], View]:
    """Run the agent's one-shot discovery now and index the result."""
    from agent.discovery import discover

    def run() -> View:
        view = View(discover())
        view.check_consistency()
        return view

    return run


@pytest.fixture
def watcher() -> Iterator[tuple[Any, Any]]:
    """A started Watcher (events only: no periodic reconcile) and its Recorder, closed after the test."""
    from tests.agent.watch_support import watching

    with watching() as pair:
        yield pair


@pytest.fixture
def private_dir(topo: Topology) -> Iterator[tuple[str, list[str]]]:
    """A temp directory of the test's own to serve as a namespace directory, and the list of
    mounts made in it (unmounted, deepest first, after the test)."""
    base = tempfile.mkdtemp(prefix=f"{topo.prefix}-watch-")
    mounts: list[str] = []
    yield base, mounts
    for path in reversed(mounts):
        subprocess.run(["umount", "-l", path], capture_output=True, timeout=30)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def lab(topo: Topology) -> Iterator[Any]:
    """The agent's lab-verb executor (tests/agent/actions_support.py Lab), closed before ``topo``,
    which then also deletes the root-namespace links its commands marked, whatever their names."""
    from tests.agent.actions_support import Lab

    helper = Lab(topo)
    try:
        yield helper
    finally:
        helper.actions.close()
        helper.adopt_marked_root_links()
