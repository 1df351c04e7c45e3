"""WCAG 2.1 A/AA on every page and state: axe-core (vendored, static/vendor/axe-core-*.min.js)
finds no serious or critical violation on the login page, the graph, its search results, the
details of an interface and a namespace, the help dialog, the table, a phone-sized graph and
table, the 403 page of an expired form, and the admin pages (the outage and signed-out states:
test_e2e_outage_states.py). The summary per page and impact goes to artifacts/axe-summary.json.
Also: the graph region is named and points to the table, the skip link shows when focused, the header's current-page
marker follows the Graph/Table switch, and the legend shows the octagon of other kinds."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Console, Server, axe, goto, login, open_graph, serious, shot, wait_js

pytestmark = pytest.mark.e2e

SUMMARY = REPO / "artifacts" / "axe-summary.json"


def test_it_has_no_serious_axe_violations_on_any_page_or_state(server: Server, page: Any, console: Console) -> None:
    static = f"{server.url}/static"
    found: dict[str, list[dict[str, Any]]] = {}

    def check(state: str) -> None:
        found[state] = axe(page, static)

    goto(page, f"{server.url}/login/")
    check("login")
    open_graph(page, server, "e2e-viewer")
    check("graph")
    page.fill("#nsm-q", "lo")
    page.keyboard.press("Enter")
    wait_js(page, "() => document.querySelectorAll('.nsm-hits li').length > 0")
    check("graph, search results")
    page.locator(".nsm-hits button").first.click()
    check("details")
    page.evaluate("() => nsmapApp.select([...nsmapApp.store.namespaces.values()].find((n) => n.kind === 'root').id)")
    check("details, namespace")
    page.locator(".nsm-detail-body").click()
    page.keyboard.press("?")
    check("help dialog")
    page.keyboard.press("Escape")
    page.click("[data-act=view-table]")
    check("table")
    page.set_viewport_size({"width": 390, "height": 844})
    check("table, phone")
    page.click("[data-act=view-graph]")
    page.click("[data-act=tools]")
    check("graph, phone, tools open")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.context.clear_cookies()
    # A sign-in form sent after its CSRF cookie went (an expired page): the 403 page.
    goto(page, f"{server.url}/login/")
    page.context.clear_cookies()
    page.fill("#id_username", "e2e-viewer")
    page.fill("#id_password", "whatever")
    with page.expect_response(lambda r: r.url.endswith("/login/") and r.request.method == "POST") as sent:
        page.click("button[type=submit]")
    assert sent.value.status == 403 and "This form has expired" in page.locator("main").inner_text()
    console.errors[:] = [e for e in console.errors if "status of 403" not in e]  # the refusal itself
    check("403 (form expired)")
    login(page, server, "e2e-admin", next_path="/admin/")
    check("admin")
    for path in ("/admin/auth/user/", "/admin/auth/user/add/"):
        goto(page, f"{server.url}{path}")
        check(f"admin {path}")
    if page.request.get(f"{server.url}/api/v1/docs/").status == 200:  # the API docs page, once it exists
        goto(page, f"{server.url}/api/v1/docs/")
        page.wait_for_load_state("networkidle")
        check("API docs")

    summary = {state: dict(Counter(v["impact"] for v in vs)) for state, vs in found.items()}
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps({"summary": summary, "violations": found}, indent=1))
    bad = {state: serious(vs) for state, vs in found.items() if serious(vs)}
    assert not bad, f"axe: serious or critical violations: {json.dumps(bad, indent=1)}"
    console.check()


def test_it_names_the_graph_and_points_to_the_table(server: Server, page: Any, console: Console) -> None:
    open_graph(page, server, "e2e-viewer")
    graph = page.locator(".nsm-graph")
    assert graph.get_attribute("role") == "region" and graph.get_attribute("aria-label") == "Topology graph"
    about = page.locator(f"#{graph.get_attribute('aria-describedby')}").inner_text()
    assert "Table view" in about and "keyboard" in about, about
    assert page.locator(".nsm-legend .sym.oct").is_visible()
    assert "ifb" in page.locator(".nsm-legend").inner_text()
    console.check()


def test_it_shows_the_skip_link_and_marks_the_current_page(server: Server, page: Any, console: Console) -> None:
    open_graph(page, server, "e2e-viewer")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    box = skip.bounding_box()
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    assert box is not None and box["width"] > 40 and box["height"] > 16, f"the focused skip link is {box}"
    shot(page, "skip-link-focused")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    current = "() => [...document.querySelectorAll('.site-header nav [aria-current=page]')].map((a) => a.textContent)"
    assert page.evaluate(current) == ["Graph"]
    page.click("[data-act=view-table]")
    assert page.evaluate(current) == ["Table"], "the header still marks Graph after switching to the table"
    page.click("[data-act=view-graph]")
    assert page.evaluate(current) == ["Graph"]
    console.check()
