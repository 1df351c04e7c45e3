"""Search says what happened in words: the count is announced (a live region), an unknown field
is named instead of a bare "0 matches", and "only matches" with no match says what to do instead
of showing an empty box; so does an empty table. On the offline harness (no server, no root)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, shot, start_harness

pytestmark = pytest.mark.e2e


@pytest.fixture
def harness(page: Any, static_url: str) -> Any:
    return start_harness(page, static_url, "graph")


def _search(page: Any, q: str) -> None:
    page.fill("#nsm-q", q)
    page.keyboard.press("Enter")


def test_it_announces_the_match_count(harness: Any, console: Console) -> None:
    page = harness
    live = page.locator("#nsm-announce")
    assert live.get_attribute("role") == "status" and live.get_attribute("aria-live") == "polite"
    _search(page, "eth0")
    n = page.evaluate("() => nsmapApp.search('eth0').interfaces.length")
    assert live.inner_text() == f"{n} matches for “eth0”"
    conn = page.locator(".nsm-conn")
    assert conn.get_attribute("role") == "status", "the connection state is not a live region"
    console.check()


def test_it_names_an_unknown_search_field(harness: Any, console: Console) -> None:
    page = harness
    _search(page, "bogus:zz")
    heading = page.locator(".nsm-results h2").inner_text()
    assert "“bogus:” is not a search field" in heading, heading
    assert "0 matches" in heading
    assert "“bogus:” is not a search field" in page.locator("#nsm-announce").inner_text()
    # A known field is not called unknown.
    _search(page, "kind:veth")
    assert "not a search field" not in page.locator(".nsm-results h2").inner_text()
    console.check()


def test_it_says_what_to_do_when_nothing_matches(harness: Any, console: Console) -> None:
    page = harness
    page.check("#nsm-only")
    _search(page, "no-such-thing")
    empty = page.locator(".nsm-empty")
    assert empty.is_visible(), "'only matches' with no match shows an empty graph and no word"
    assert "Nothing matches “no-such-thing”" in empty.inner_text() and "Clear" in empty.inner_text()
    assert "Try part of a name" in page.locator(".nsm-results").inner_text()
    shot(page, "only-matches-empty")
    page.click("[data-act=view-table]")
    info = page.locator(".nsm-table-info").inner_text()
    assert info.startswith("0 of ") and "nothing matches: change the search or press Clear" in info, info
    assert not empty.is_visible()
    page.click("[data-act=clear]")
    assert page.locator(".nsm-table tbody tr").count() > 0
    console.check()
