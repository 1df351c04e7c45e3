"""The toolbar without a mouse: Tab reaches every control in order, Enter and Space work them,
the focus ring shows where one is, arrows move along the toolbar, "/" jumps to the search and
Escape closes the Export menu. On the offline harness (no server, no root)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, start_harness

pytestmark = pytest.mark.e2e

WHO = """() => { const e = document.activeElement;
  return e.dataset.act || e.id || `${e.tagName.toLowerCase()}:${e.textContent.trim()}`; }"""

TOOLBAR = [
    "view-graph",
    "view-table",
    "nsm-q",
    "nsm-only",
    "button:Find",
    "clear",
    "fit",
    "zoom-in",
    "zoom-out",
    "expand-all",
    "collapse-all",
    "arrange",
    "reset-layout",
    "summary:Export",
]


def _tab_to(page: Any, target: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(WHO) == target:
            return
    raise AssertionError(f"Tab never reached {target}")


def test_it_works_the_toolbar_from_the_keyboard(page: Any, static_url: str, console: Console) -> None:
    start_harness(page, static_url, namespaces=4)

    seen = []
    for _ in range(len(TOOLBAR)):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(WHO))
    assert seen == TOOLBAR

    # A visible focus ring on the control that has the keyboard focus.
    _tab_to(page, "view-table")
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert ring == ["solid", "3px", "rgb(232, 89, 12)"]

    page.keyboard.press("Enter")
    assert page.evaluate("nsmapApp.mode") == "table"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(WHO) == "view-graph"
    page.keyboard.press(" ")
    assert page.evaluate("nsmapApp.mode") == "graph"

    # Arrows move along the toolbar; Enter on "+" zooms in.
    page.keyboard.press("ArrowRight")
    assert page.evaluate(WHO) == "view-table"
    page.keyboard.press("End")
    assert page.evaluate(WHO) == "summary:Export"
    page.keyboard.press("Home")
    assert page.evaluate(WHO) == "view-graph"
    _tab_to(page, "zoom-in")
    zoom = page.evaluate("nsmapApp.cy.zoom()")
    page.keyboard.press("Enter")
    assert page.evaluate("nsmapApp.cy.zoom()") > zoom

    # The Export menu opens with Enter, its items come next in Tab order, Escape closes it.
    _tab_to(page, "summary:Export")
    page.keyboard.press("Enter")
    assert page.evaluate("document.querySelector('.nsm-export').open") is True
    page.keyboard.press("Tab")
    assert page.evaluate(WHO) == "export-png"
    page.keyboard.press("Escape")
    assert page.evaluate("document.querySelector('.nsm-export').open") is False
    assert page.evaluate(WHO) == "summary:Export"

    # "/" from anywhere but a text field goes to the search; Enter searches, Escape clears.
    page.keyboard.press("/")
    assert page.evaluate(WHO) == "nsm-q"
    page.keyboard.type("lab0")
    page.keyboard.press("Enter")
    assert "lab0" in page.locator(".nsm-results").inner_text()
    page.keyboard.press("Escape")
    assert page.input_value("#nsm-q") == ""
    assert page.locator(".nsm-results").inner_text() == ""
    console.check()
