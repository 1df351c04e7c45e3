"""Fixtures for the agent's kernel tests: a real topology that cleans up, and a fresh scan of it.

``topo`` builds real namespaces (tests/kernel_topology.py) and fails the test's teardown if
anything of it is left; ``scan()`` runs the agent's real discovery (the live agent's code path).
Kernel tests skip, with a reason naming root, when not run as root.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

# tests/kernel_topology.py and agent/ are imported from the repository root, also under a bare
# `pytest` (which, unlike `python -m pytest`, does not put the working directory on sys.path).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.agent.inventory_view import View  # noqa: E402
from tests.kernel_topology import Topology, require_root  # noqa: E402


@pytest.fixture
def topo() -> Iterator[Topology]:
    """A Topology with a fresh prefix, closed after the test even if it failed."""
    require_root()
    topology = Topology()
    try:
        yield topology
    finally:
        topology.close()
    left = topology.leftovers()
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
