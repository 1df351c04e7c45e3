"""The table is the graph's accessible equivalent, and the right-click menu is mouse-only: from
the table an operator reaches an interface's lab actions with the keyboard alone (search, Tab to
the interface's row, Enter opens its details with the focus on them, Tab to an action, Enter),
and the kernel changes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, if_id, lab_count, lab_done, open_graph, shot, wait_js
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e

FOCUSED = (
    "() => { const e = document.activeElement; return { text: e.textContent, select: e.dataset.select || null }; }"
)


def tab_to(page: Any, wanted: Any, what: str, limit: int = 80) -> None:
    """Press Tab until ``wanted(focused)`` holds for the focused element's {text, select}."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if wanted(page.evaluate(FOCUSED)):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {what}; the focus is on {page.evaluate(FOCUSED)}")


def test_it_brings_an_interface_up_from_the_table_by_keyboard(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    lab = topo.add_netns("-tbl")
    topo.veth("k0", lab, "k1", lab)
    open_graph(page, server, "e2e-admin", query="view=table")
    k0 = if_id(page, lab.name, "k0")
    wait_js(page, "(id) => document.querySelector(`.nsm-table button[data-select='${id}']`)", k0)

    page.keyboard.press("/")
    page.keyboard.type(lab.name)
    page.keyboard.press("Enter")
    tab_to(page, lambda f: f["select"] == k0, "k0's row in the table")
    page.keyboard.press("Enter")
    wait_js(page, "() => document.activeElement.classList.contains('nsm-details')")
    title = page.locator(".nsm-details .nsm-title").inner_text()
    assert "k0" in title and "DOWN" in title, f"Enter on k0 in the table shows its details: {title}"
    tab_to(page, lambda f: f["text"] == "Bring up", "the details panel's Bring up button")
    before = lab_count(page, "link.set")
    page.keyboard.press("Enter")
    lab_done(page, "link.set", before)
    wait_js(page, "(id) => nsmapApp.store.interfaces.get(id).up === true", k0)
    assert "UP" in topo.link(lab, "k0")["flags"], "k0 is up on the kernel"
    # The panel re-rendered: the focus stays on the same button, which now offers the opposite.
    wait_js(page, "() => document.activeElement.textContent === 'Bring down'")
    wait_js(page, "(id) => document.querySelector(`tr[data-id='${id}'] .st`).textContent !== 'DOWN'", k0)
    shot(page, "lab-table-keyboard")
    console.check()
