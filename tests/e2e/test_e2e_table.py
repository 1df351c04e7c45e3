"""The table view: same data, sortable, filterable, one click away, keyboard-usable."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, login, shot, wait_js
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e


def test_it_lists_sorts_and_filters_interfaces(server: Server, page: Any, console: Console, topo: Topology) -> None:
    a, b = topo.add_netns("ta"), topo.add_netns("tb")
    topo.veth("tva", a, "tvb", b)
    login(page, server, "e2e-viewer", next_path="/table/")
    wait_js(page, "() => window.nsmapApp && nsmapApp.mode === 'table' && nsmapApp.connection === 'live' || null")
    rows = page.locator(".nsm-table tbody tr")
    rows.first.wait_for()
    assert page.locator(".site-header nav a[aria-current=page]").inner_text() == "Table"

    # Keyboard: "/" focuses the search; typing filters to the pair; the peer column names the other end.
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "nsm-q"
    page.keyboard.type(f"ns:{topo.prefix}t name:tv")
    page.keyboard.press("Enter")
    wait_js(page, "() => document.querySelectorAll('.nsm-table tbody tr').length === 2 || null")
    text = page.locator(".nsm-table tbody").inner_text()
    assert "tva" in text and "tvb" in text
    assert f"tvb in {b.name}" in text and f"tva in {a.name}" in text

    # Sort by interface name, both ways (aria-sort tells assistive technology).
    header = page.locator(".nsm-table th button[data-sort=name]")
    header.click()
    assert page.locator(".nsm-table th[aria-sort=ascending] button[data-sort=name]").count() == 1
    first = page.locator(".nsm-table tbody tr").first.locator("td").nth(2).inner_text()
    page.locator(".nsm-table th button[data-sort=name]").click()
    assert page.locator(".nsm-table th[aria-sort=descending] button[data-sort=name]").count() == 1
    assert page.locator(".nsm-table tbody tr").first.locator("td").nth(2).inner_text() != first

    # A row's peer opens its details; the graph is one click away.
    page.locator(".nsm-table tbody button.link", has_text="tvb in").first.click()
    page.locator(".nsm-details .nsm-peer").wait_for()
    shot(page, "table-filtered")
    page.click("[data-act=view-graph]")
    wait_js(page, "() => nsmapApp.mode === 'graph' && nsmapApp.cy !== null || null")
    console.check()


def test_it_picks_the_table_by_itself_when_the_graph_would_be_unreadable(
    server: Server, page: Any, console: Console
) -> None:
    login(page, server, "e2e-viewer", next_path="/?table=0")
    wait_js(page, "() => window.nsmapApp && nsmapApp.mode === 'table' || null")
    assert page.locator(".nsm-notice").is_visible()
    page.locator(".nsm-notice button").click()
    wait_js(page, "() => nsmapApp.mode === 'graph' || null")
    console.check()
