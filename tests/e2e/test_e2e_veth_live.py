"""A veth pair made with `ip` appears with the right peer, follows a move and goes, all without reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph, shot, wait_js
from tests.kernel_topology import Netns, Topology

pytestmark = pytest.mark.e2e

# In the page: the interface named `name` in the namespace whose /run/netns name is `ns`.
FIND_IF = """
([ns, name]) => {
  const s = nsmapApp.store;
  const n = [...s.namespaces.values()].find(x => (x.names || []).includes(ns));
  if (!n) return null;
  const i = [...s.interfaces.values()].find(x => x.namespace === n.id && x.name === name);
  return i ? i.id : null;
}
"""

# The pair as the page has it: both ends, each naming the other, and one edge drawn between them.
PAIR_OK = (
    """
([a, b]) => {
  const find = """
    + FIND_IF
    + """;
  const ia = find(a), ib = find(b);
  if (!ia || !ib) return null;
  const s = nsmapApp.store;
  if (s.interfaces.get(ia).peer !== ib || s.interfaces.get(ib).peer !== ia) return null;
  const edge = nsmapApp.edgeBetween(ia, ib);
  return edge ? { ia, ib, edge } : null;
}
"""
)


def wait_pair(page: Any, a: tuple[Netns, str], b: tuple[Netns, str]) -> dict[str, str]:
    return wait_js(page, PAIR_OK, [[a[0].name, a[1]], [b[0].name, b[1]]])


def test_it_shows_a_veth_pair_live_follows_a_move_and_drops_it(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    open_graph(page, server, "e2e-viewer")
    reloads = page.evaluate("performance.getEntriesByType('navigation').length")
    a, b, c = topo.add_netns("a"), topo.add_netns("b"), topo.add_netns("c")
    topo.veth("va", a, "vb", b)
    topo.up(a, "va")
    topo.up(b, "vb")

    pair = wait_pair(page, (a, "va"), (b, "vb"))
    # The label says where the peer is (seed notation) and the details panel names it.
    page.evaluate("(id) => nsmapApp.select(id)", pair["ia"])
    details = page.locator(".nsm-details")
    details.locator(".nsm-peer").wait_for()
    assert "vb" in details.locator(".nsm-peer").inner_text()
    assert b.name in details.locator(".nsm-peer").inner_text()
    label = page.evaluate("(id) => nsmapApp.cy.getElementById(id).data('label')", pair["ia"])
    assert label.startswith("va@")
    shot(page, "veth-appeared")

    # Move one end: the edge follows it to the new namespace, the old end is gone.
    topo.move("vb", b, c)
    moved = wait_pair(page, (a, "va"), (c, "vb"))
    assert moved["ib"] != pair["ib"]
    wait_js(
        page,
        "(id) => !nsmapApp.store.interfaces.has(id) && !nsmapApp.cy.getElementById(id).nonempty() || null",
        pair["ib"],
    )
    page.evaluate("(id) => nsmapApp.select(id)", moved["ib"])
    details.locator(f".nsm-peer:has-text('{a.name}')").wait_for()
    shot(page, "veth-moved")

    # Delete it: both ends and the edge go.
    topo.delete(a, "va")
    wait_js(
        page,
        "([x, y]) => (!nsmapApp.store.interfaces.has(x) && !nsmapApp.store.interfaces.has(y)"
        " && nsmapApp.cy.getElementById(x).empty() && nsmapApp.cy.getElementById(y).empty()) || null",
        [moved["ia"], moved["ib"]],
    )
    assert page.evaluate("performance.getEntriesByType('navigation').length") == reloads
    assert page.evaluate("nsmapApp.connection") == "live"
    shot(page, "veth-deleted")
    console.check()
