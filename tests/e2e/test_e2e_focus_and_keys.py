"""The keyboard user is never dropped: focus stays on the same table row control and the same
details control across live patches; Escape closes what opened (help, Tools menu, details on a
phone); "?" opens the keyboard help. On the offline harness (no server, no root)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, shot, start_harness

pytestmark = pytest.mark.e2e

WHO = """() => { const e = document.activeElement, row = e.closest('tr[data-id]');
  const who = e === document.body ? 'body' : (e.dataset.select || e.dataset.act || e.id || e.className || e.tagName);
  return row ? `${who} in row ${row.dataset.id} cell ${e.closest('td').cellIndex}` : who; }"""
IFCELL = ".nsm-table tr[data-id='{}'] td:nth-child(3) button"  # the row's Interface column

# Flip an interface's operstate in a numbered patch, as the server would send it.
PATCH = """(id) => {
  const app = nsmapApp, i = app.store.interfaces.get(id);
  const operstate = i.operstate === 'UP' ? 'LOWERLAYERDOWN' : 'UP';
  app.receive({ type: 'patch', seq: app.store.seq + 1, upsert: { interfaces: [{ ...i, operstate }] }, remove: {} });
  return operstate;
}"""


@pytest.fixture
def harness(page: Any, static_url: str) -> Any:
    return start_harness(page, static_url, "table")


def test_it_keeps_focus_on_a_table_row_across_a_live_patch(harness: Any, console: Console) -> None:
    page = harness
    eth0 = page.evaluate("() => [...nsmapApp.store.interfaces.values()].find((i) => i.name === 'eth0').id")
    page.locator(IFCELL.format(eth0)).focus()
    me = f"{eth0} in row {eth0} cell 2"
    assert page.evaluate(WHO) == me
    before = page.evaluate("(id) => document.querySelector(`.nsm-table tr[data-id='${id}']`)", eth0)
    state = page.evaluate(PATCH, eth0)
    # The table is rebuilt within 250 ms: a new row, the focus on its control.
    page.wait_for_function(
        "([id, st]) => document.querySelector(`.nsm-table tr[data-id='${id}'] .st`).textContent === st",
        arg=[eth0, "NO-CARRIER" if state != "UP" else "UP"],
    )
    assert page.evaluate("(old) => !old.isConnected", before), "the table was not rebuilt by the patch"
    assert page.evaluate(WHO) == me, "the focus left the row's control after a live patch"
    console.check()


def test_it_keeps_focus_in_the_details_across_a_live_patch(harness: Any, console: Console) -> None:
    page = harness
    eth0 = page.evaluate("() => [...nsmapApp.store.interfaces.values()].find((i) => i.name === 'eth0').id")
    ns = page.evaluate("(id) => nsmapApp.store.interfaces.get(id).namespace", eth0)
    page.locator(IFCELL.format(eth0)).click()
    assert page.evaluate(WHO) == "nsm-details"  # a choice moves the focus to the details
    link = page.locator(f".nsm-detail-body button[data-select='{ns}']")
    link.focus()
    title = page.evaluate("() => document.querySelector('.nsm-detail-body h2')")
    page.evaluate(PATCH, eth0)
    assert page.evaluate("(old) => !old.isConnected", title), "the details were not re-rendered by the patch"
    assert page.evaluate(WHO) == ns, "the focus left the details' control after a live patch"
    # The control is gone (the selected interface was removed): the focus goes to the panel.
    page.evaluate(
        """(id) => nsmapApp.receive({ type: 'patch', seq: nsmapApp.store.seq + 1, upsert: {},
             remove: { interfaces: [id] } })""",
        eth0,
    )
    assert page.evaluate(WHO) == "nsm-details", page.evaluate(WHO)
    console.check()


def test_it_opens_help_with_question_mark_and_escape_closes_what_opened(harness: Any, console: Console) -> None:
    page = harness
    page.locator(".nsm-table tbody button").first.focus()
    page.keyboard.press("?")
    assert page.evaluate("() => document.querySelector('.nsm-help').open") is True
    text = page.locator(".nsm-help").inner_text()
    assert "go to the search" in text and "kind:veth" in text and "Table" in text
    shot(page, "help-dialog")
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.querySelector('.nsm-help').open") is False

    # On a phone the layout tools fold behind "Tools"; Escape closes that menu, focus back on it.
    page.set_viewport_size({"width": 390, "height": 844})
    assert not page.locator("[data-act=fit]").is_visible()
    page.click("[data-act=tools]")
    assert page.locator("[data-act=fit]").is_visible()
    page.locator("[data-act=fit]").focus()
    page.keyboard.press("Escape")
    assert not page.locator("[data-act=fit]").is_visible()
    assert page.evaluate(WHO) == "tools"

    # ... and the details, which slide over the view there; Escape gives the focus back to the row.
    first = page.evaluate("() => document.querySelector('.nsm-table tbody tr').dataset.id")
    page.locator(IFCELL.format(first)).click()
    page.locator(".nsm-details").wait_for(state="visible", timeout=2_000)
    shot(page, "phone-details-over-table")
    page.keyboard.press("Escape")
    page.wait_for_function("() => getComputedStyle(document.querySelector('.nsm-details')).visibility === 'hidden'")
    assert page.evaluate(WHO) == f"{first} in row {first} cell 2"
    console.check()
