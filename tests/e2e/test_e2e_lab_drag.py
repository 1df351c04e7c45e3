"""Lab actions by mouse, on this host's kernel: a link drawn from one namespace to another becomes
a veth pair (after the form), an end dragged into a third namespace's box moves there (a cancelled
drop puts it back), and deleting one end asks with both ends named, then removes the pair."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    LINK_ON,
    NODE_IN,
    Console,
    Server,
    drag_to,
    if_id,
    lab_button,
    lab_done,
    lab_form,
    ns_id,
    open_graph,
    shot,
    wait_js,
)
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e


def frame(page: Any, ids: list[str]) -> None:
    """These elements in view (a new pair's interfaces push the boxes beside them aside)."""
    page.evaluate(
        "(ids) => { const cy = nsmapApp.cy; cy.stop();"
        " cy.fit(ids.reduce((c, id) => c.union(cy.getElementById(id)), cy.collection()), 80); }",
        ids,
    )


def test_it_draws_a_link_moves_an_end_and_deletes_the_pair(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    left, right, far = topo.add_netns("-left"), topo.add_netns("-right"), topo.add_netns("-far")
    open_graph(page, server, "e2e-admin")
    ids = {ns.name: ns_id(page, ns.name) for ns in (left, right, far)}
    wait_js(page, "(ids) => ids.every((id) => nsmapApp.cy.getElementById(id).nonempty())", list(ids.values()))
    frame(page, list(ids.values()))

    # Draw: from the left namespace's box to the right one's.
    page.get_by_role("button", name="Draw links").click()
    assert page.get_by_role("button", name="Draw links").get_attribute("aria-pressed") == "true"
    drag_to(page, ids[left.name], ids[right.name], LINK_ON)
    form = lab_form(page)
    assert form.locator("[name='b.namespace']").input_value() == ids[right.name], (
        "the other end is where it was dropped"
    )
    name_a = form.locator("[name='a.name']").input_value()
    name_b = form.locator("[name='b.name']").input_value()
    assert (name_a, name_b) == ("veth-left-righ", "veth-righ-left"), f"proposed names: {name_a}, {name_b}"
    assert page.evaluate("() => nsmapApp.cy.edges('[kind = \"draft\"]').length") == 0, "no edge is faked"
    shot(page, "lab-drag-1-form")
    form.get_by_role("button", name="Create pair").click()
    lab_done(page, "veth.create")
    end_a, end_b = if_id(page, left.name, name_a), if_id(page, right.name, name_b)
    wait_js(page, "([a, b]) => nsmapApp.edgeBetween(a, b)", [end_a, end_b])
    a_link, b_link = topo.link(left, name_a), topo.link(right, name_b)
    assert a_link["link_index"] == b_link["ifindex"] and b_link["link_index"] == a_link["ifindex"], "one pair"
    page.get_by_role("button", name="Draw links").click()
    shot(page, "lab-drag-1-created")

    # Move by dragging the right end into the far box: cancelled first (it goes back), then for real.
    wait_js(page, "(id) => nsmapApp.cy.getElementById(id).nonempty()", end_b)
    frame(page, list(ids.values()))
    # Where it was when grabbed (a patch elsewhere may have moved it before the press).
    page.evaluate(
        "(id) => nsmapApp.cy.getElementById(id).one('grab', (e) => (window.grabbedAt = { ...e.target.position() }))",
        end_b,
    )
    drag_to(page, end_b, ids[far.name], NODE_IN)
    form = lab_form(page)
    assert form.locator("[name='namespace']").input_value() == ids[far.name], (
        "the move form names the box it was dropped in"
    )
    shot(page, "lab-drag-2-move-form")
    form.get_by_role("button", name="Cancel").click()
    before, after = page.evaluate("(id) => [window.grabbedAt, nsmapApp.cy.getElementById(id).position()]", end_b)
    assert after == before, f"a cancelled move puts the node back: {before} -> {after}"
    assert name_b in topo.link_names(right), "a cancelled move changes nothing"

    frame(page, list(ids.values()))
    drag_to(page, end_b, ids[far.name], NODE_IN)
    lab_form(page).get_by_role("button", name="Move").click()
    lab_done(page, "link.move")
    moved = if_id(page, far.name, name_b)
    wait_js(page, "([a, b]) => nsmapApp.edgeBetween(a, b)", [end_a, moved])
    assert name_b in topo.link_names(far) and name_b not in topo.link_names(right), "moved on the kernel"
    shot(page, "lab-drag-2-moved")

    # Delete one end: the confirmation names both.
    page.evaluate("(id) => nsmapApp.select(id)", end_a)
    lab_button(page, "Delete…").click()
    form = lab_form(page)
    text = form.inner_text()
    assert name_a in text and name_b in text and left.name in text and far.name in text, f"both ends named: {text}"
    shot(page, "lab-drag-3-delete-form")
    form.get_by_role("button", name="Delete both ends").click()
    lab_done(page, "link.delete")
    wait_js(
        page,
        "([a, b]) => !nsmapApp.store.interfaces.has(a) && !nsmapApp.store.interfaces.has(b)",
        [end_a, moved],
    )
    assert name_a not in topo.link_names(left) and name_b not in topo.link_names(far), "both ends are gone"
    shot(page, "lab-drag-3-deleted")
    page.click("[data-act=view-table]")
    assert page.get_by_role("button", name="Draw links").is_disabled(), "drawing is for the graph view"
    console.check()
