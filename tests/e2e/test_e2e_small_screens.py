"""Three screen sizes, looked at (artifacts/screenshots/screen-*.png): on a phone (390x844) nothing
scrolls sideways, the header wraps with "Sign out" on screen, the tools fold behind a menu, the
details slide over the view instead of squeezing it, and the table keeps its key columns; on a
laptop (1280x720) the table with the details open does not scroll sideways; at 1920x1080 all of
it shows at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph, shot, wait_js

pytestmark = pytest.mark.e2e

SIDEWAYS = "() => document.scrollingElement.scrollWidth - window.innerWidth"
TABLE_SIDEWAYS = (
    "() => { const s = document.querySelector('.nsm-table-scroll'); return s.scrollWidth - s.clientWidth; }"
)
HEADERS = """() => [...document.querySelectorAll('.nsm-table th')].filter((th) => th.offsetParent)
  .map((th) => th.innerText.replace(/ [▲▼]$/, ''))"""
PICK = "() => nsmapApp.select([...nsmapApp.store.interfaces.values()].find((i) => i.name === 'lo').id)"


def _open(page: Any, server: Server, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_graph(page, server, "e2e-admin")


def test_it_fits_a_phone(server: Server, page: Any, console: Console) -> None:
    _open(page, server, 390, 844)
    shot(page, "screen-390-graph")
    assert page.evaluate(SIDEWAYS) <= 0, "the page scrolls sideways at 390 px"
    sign_out = page.locator(".site-header button:has-text('Sign out')").bounding_box()
    assert sign_out is not None and sign_out["x"] + sign_out["width"] <= 390, f"Sign out is cut: {sign_out}"
    toolbar = page.locator(".nsm-toolbar").bounding_box()
    assert toolbar is not None and toolbar["height"] < 100, f"the toolbar takes {toolbar['height']} px"
    assert not page.locator("[data-act=expand-all]").is_visible(), "the layout tools are not folded away"
    page.click("[data-act=tools]")
    assert page.locator("[data-act=expand-all]").is_visible()
    shot(page, "screen-390-tools-open")
    page.click("[data-act=tools]")

    graph_width = page.locator(".nsm-graph").bounding_box()["width"]
    assert graph_width >= 380, f"the graph gets {graph_width} px of 390"
    page.evaluate(PICK)
    panel = page.locator(".nsm-details")
    panel.wait_for(state="visible", timeout=2_000)
    page.wait_for_function("() => getComputedStyle(document.querySelector('.nsm-details')).transform === 'none'")
    box = panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, f"details off screen: {box}"
    assert page.locator(".nsm-graph").bounding_box()["width"] == graph_width, "the details squeezed the graph"
    assert page.evaluate(SIDEWAYS) <= 0
    shot(page, "screen-390-details")
    page.click("[data-act=close-details]")
    wait_js(page, "() => getComputedStyle(document.querySelector('.nsm-details')).visibility === 'hidden'")

    page.click("[data-act=view-table]")
    assert page.evaluate(SIDEWAYS) <= 0
    headers = page.evaluate(HEADERS)
    assert headers[:3] == ["Host", "Namespace", "Interface"] and "State" in headers, headers
    shot(page, "screen-390-table")
    console.check()


def test_it_fits_a_laptop_table_with_details_open(server: Server, page: Any, console: Console) -> None:
    _open(page, server, 1280, 720)
    shot(page, "screen-1280-graph")
    page.click("[data-act=view-table]")
    page.evaluate(PICK)
    assert page.locator(".nsm-details").is_visible()
    assert page.evaluate(TABLE_SIDEWAYS) <= 0, "the table scrolls sideways at 1280x720"
    headers = page.evaluate(HEADERS)
    assert {"Host", "Namespace", "Interface", "State", "Addresses"} <= set(headers), headers
    assert page.evaluate(SIDEWAYS) <= 0
    shot(page, "screen-1280-table")
    console.check()


def test_it_shows_everything_on_a_large_screen(server: Server, page: Any, console: Console) -> None:
    _open(page, server, 1920, 1080)
    page.evaluate(PICK)
    shot(page, "screen-1920-details")
    page.click("[data-act=view-table]")
    assert page.evaluate(TABLE_SIDEWAYS) <= 0 and page.evaluate(SIDEWAYS) <= 0
    assert "MAC" in page.evaluate(HEADERS) and "MTU" in page.evaluate(HEADERS)
    shot(page, "screen-1920-table")
    console.check()
