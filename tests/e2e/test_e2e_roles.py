"""Roles: a viewer cannot reach the admin pages; an admin can."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, goto, login, shot

pytestmark = pytest.mark.e2e


def test_it_keeps_a_viewer_out_of_admin_pages(server: Server, page: Any, console: Console) -> None:
    login(page, server, "e2e-viewer", next_path="/table/")
    assert page.locator(".site-header nav a:has-text('Admin')").count() == 0
    for path in ("/admin/", "/admin/auth/user/", "/admin/auth/group/"):
        response = goto(page, f"{server.url}{path}")
        # Django's admin sends a signed-in non-staff user to its own login page (or answers 403).
        assert response is not None
        assert response.status == 403 or "/admin/login/" in page.url, (path, response.status, page.url)
        assert page.locator("text=Site administration").count() == 0
    shot(page, "viewer-denied-admin")
    console.check()


def test_it_lets_an_admin_in(server: Server, page: Any, console: Console) -> None:
    login(page, server, "e2e-admin", next_path="/table/")
    assert page.locator(".site-header nav a:has-text('Admin')").count() == 1
    response = goto(page, f"{server.url}/admin/")
    assert response is not None and response.status == 200
    assert "/admin/login/" not in page.url
    console.check()
