"""Search a container's eth0 and get its host-side veth, the seed's question, in the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph, shot, wait_js
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e


def test_it_finds_the_host_side_peer_of_a_containers_eth0(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    open_graph(page, server, "e2e-viewer")
    # A "container": an unnamed namespace held by a process, with eth0 paired to a host veth,
    # made while the page is open (it must arrive live).
    ctr = topo.process_netns(("sleep", "600"))
    host_end = topo.name("h0")
    topo.veth(host_end, topo.root, "eth0", ctr)
    topo.up(topo.root, host_end)
    topo.up(ctr, "eth0")
    topo.addr(ctr, "eth0", "10.213.7.2/24")
    # Wait until the page knows the container's eth0 with its resolved peer.
    wait_js(
        page,
        """(pid) => {
          const s = nsmapApp.store;
          const ns = [...s.namespaces.values()].find(n => (n.pids || []).some(p => p.pid === pid));
          const i = ns && [...s.interfaces.values()].find(x => x.namespace === ns.id && x.name === 'eth0');
          return (i && i.peer && s.interfaces.has(i.peer)) || null;
        }""",
        ctr.pid,
    )
    # Like a person: type the search, pick the hit, read the peer, follow it.
    page.fill("#nsm-q", f"pid:{ctr.pid} eth0")
    page.keyboard.press("Enter")
    hits = page.locator(".nsm-hits button")
    hits.first.wait_for()
    assert hits.count() == 1, page.locator(".nsm-results").inner_text()
    assert "eth0" in hits.first.inner_text()
    hits.first.click()
    peer = page.locator(".nsm-details .nsm-peer")
    peer.wait_for()
    assert host_end in peer.inner_text()
    assert "root" in peer.inner_text()
    assert page.locator(".nsm-details .nsm-kv").inner_text().count("10.213.7.2/24") == 1
    shot(page, "container-eth0-details")

    peer.locator("button", has_text=host_end).click()
    page.locator(f".nsm-details h2:has-text('{host_end}')").wait_for()
    back = page.locator(".nsm-details .nsm-peer")
    assert "eth0" in back.inner_text()
    assert f"pid {ctr.pid}" in back.inner_text()
    shot(page, "container-host-side-veth")
    console.check()
