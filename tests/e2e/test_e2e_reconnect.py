"""Connection state: live, then reconnecting with the stale time, then live again and in step."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph, shot, wait_js
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e


def test_it_reconnects_and_resynchronises_after_a_drop(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    open_graph(page, server, "e2e-viewer")
    assert page.locator(".nsm-conn").inner_text().endswith("live")
    # Drop the socket and change the kernel while the page is away: the resync must bring it in.
    page.evaluate("nsmapApp.dropConnection()")
    wait_js(page, "() => nsmapApp.connection === 'reconnecting' || null", timeout=5000)
    assert "stale since" in page.locator(".nsm-conn").inner_text()
    shot(page, "reconnecting")
    ns = topo.add_netns("rc")
    wait_js(page, "() => nsmapApp.connection === 'live' || null")
    wait_js(
        page,
        "(name) => [...nsmapApp.store.namespaces.values()].some(n => (n.names || []).includes(name)) || null",
        ns.name,
    )
    console.check()
