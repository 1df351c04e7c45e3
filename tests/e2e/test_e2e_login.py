"""Signing in, and the host's namespaces on the graph once signed in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, goto, login, open_graph, shot, wait_js
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e


def test_it_sends_an_anonymous_visitor_to_the_login_page(server: Server, page: Any, console: Console) -> None:
    goto(page, f"{server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", "e2e-viewer")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator(".login .errors").is_visible()
    shot(page, "login-wrong-password")
    console.check()


def test_it_logs_in_and_shows_the_hosts_namespaces(server: Server, page: Any, console: Console, topo: Topology) -> None:
    ns = topo.add_netns("lab")
    open_graph(page, server, "e2e-viewer")
    assert page.url.rstrip("/").endswith("view=graph")
    assert page.locator(".site-header").inner_text().count("e2e-viewer") == 1
    # The root namespace and the one made above, both drawn.
    root = wait_js(
        page,
        "() => [...nsmapApp.store.namespaces.values()].find(n => n.kind === 'root')?.id",
    )
    assert page.evaluate("(id) => nsmapApp.cy.getElementById(id).nonempty()", root)
    ns_id = wait_js(
        page,
        "(name) => [...nsmapApp.store.namespaces.values()].find(n => (n.names || []).includes(name))?.id",
        ns.name,
    )
    assert page.evaluate("(id) => nsmapApp.cy.getElementById(id).nonempty()", ns_id)
    page.evaluate("(id) => nsmapApp.select(id)", ns_id)
    page.wait_for_selector(f".nsm-details h2:has-text('{ns.name}')")
    counts = page.locator(".nsm-counts").inner_text()
    assert "namespaces" in counts
    shot(page, "graph-after-login")
    console.check()


def test_it_signs_out(server: Server, page: Any, console: Console) -> None:
    login(page, server, "e2e-viewer", next_path="/table/")
    page.click(".site-header button:has-text('Sign out')")
    page.wait_for_url("**/login/")
    goto(page, f"{server.url}/table/")
    assert "/login/" in page.url
    console.check()
