"""When the server cannot be reached or the session ends, the page says so in words: a banner
says what still works and when the picture was last updated, the details are marked out of date,
and a lost session shows a sign-in prompt in the banner and the header. axe finds nothing serious
in either state."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, axe, goto, open_graph, serious, shot, wait_js

pytestmark = pytest.mark.e2e

# What the browser itself logs while the server is away or refuses: expected here, not the page's.
OUTAGE_LINES = ("WebSocket connection to", "status of 401", "status of 403")


def _forget_expected(console: Console) -> None:
    console.errors[:] = [e for e in console.errors if not any(x in e for x in OUTAGE_LINES)]


def _select_an_interface(page: Any) -> None:
    page.evaluate("() => nsmapApp.select([...nsmapApp.store.interfaces.values()].find((i) => i.name === 'lo').id)")
    wait_js(page, "() => document.querySelector('.nsm-detail-body h2')?.textContent.includes('lo')")


def test_it_shows_a_banner_and_stale_details_while_the_server_is_unreachable(
    server: Server, page: Any, console: Console
) -> None:
    open_graph(page, server, "e2e-viewer")
    _select_an_interface(page)
    banner = page.locator(".nsm-banner")
    assert not banner.is_visible()
    assert not serious(axe(page, f"{server.url}/static")), "axe: serious violations while live"  # loads axe
    # The server goes away for the page: every new socket is closed at once (Chromium's offline
    # emulation does not reliably stop WebSockets), the open one is dropped.
    down = {"now": True}

    def socket(ws: Any) -> None:
        if down["now"]:
            ws.close()
        else:
            ws.connect_to_server()

    page.route_web_socket("**/ws/topology/", socket)
    try:
        page.evaluate("() => nsmapApp.dropConnection()")
        wait_js(page, "() => nsmapApp.connection === 'reconnecting' || null", timeout=10_000)
        assert banner.is_visible() and banner.get_attribute("role") == "alert"
        text = banner.inner_text()
        assert "cannot be reached" in text and "search, the table, details and export still work" in text, text
        assert "What you see is as of " in text and "never" not in text, text
        note = page.locator(".nsm-stale-note")
        assert note.is_visible() and "Out of date" in note.inner_text()
        shot(page, "outage-banner")
        assert not serious(axe(page, f"{server.url}/static")), "axe: serious violations in the outage state"
    finally:
        down["now"] = False
    wait_js(page, "() => nsmapApp.connection === 'live' || null")
    assert not banner.is_visible() and page.locator(".nsm-stale-note").count() == 0
    _forget_expected(console)
    console.check()


def test_it_prompts_to_sign_in_when_the_session_ends(server: Server, page: Any, console: Console) -> None:
    open_graph(page, server, "e2e-viewer")
    assert page.locator(".site-header .user button:has-text('Sign out')").count() == 1
    # Sign out in another tab of the same browser, then lose the socket: the session is gone.
    other = page.context.new_page()
    goto(other, f"{server.url}/table/")
    other.click(".site-header button:has-text('Sign out')")
    other.wait_for_url("**/login/**")
    other.close()
    page.evaluate("() => nsmapApp.dropConnection()")
    wait_js(page, "() => nsmapApp.connection === 'signed-out' || null")
    banner = page.locator(".nsm-banner")
    assert "Your session has ended" in banner.inner_text()
    link = banner.locator("a", has_text="Sign in again")
    assert "/login/?next=" in (link.get_attribute("href") or "")
    header = page.locator(".site-header .user")
    assert "signed out" in header.inner_text() and header.locator("a", has_text="Sign in").count() == 1
    assert header.locator("button:has-text('Sign out')").count() == 0, "the header still offers Sign out"
    shot(page, "signed-out-prompt")
    assert not serious(axe(page, f"{server.url}/static")), "axe: serious violations in the signed-out state"
    link.click()
    page.wait_for_url("**/login/**")
    _forget_expected(console)
    console.check()
