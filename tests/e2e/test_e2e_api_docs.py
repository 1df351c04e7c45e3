"""The API docs page (/api/v1/docs/, Swagger UI from local files) in a real browser, signed in:
every operation listed, and one tried out with the session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, login, shot

pytestmark = pytest.mark.e2e

OPERATIONS = sorted(
    [
        *("/api/v1/changes/", "/api/v1/changes/activity/", "/api/v1/changes/export/", "/api/v1/diff/"),
        *("/api/v1/commands/", "/api/v1/commands/", "/api/v1/commands/{id}/", "/api/v1/nodes/", "/api/v1/topology/"),
    ]
)


def test_it_lists_the_operations_and_tries_one_out(server: Server, page: Any, console: Console) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, server, "e2e-viewer", next_path="/api/v1/docs/")
    assert page.url.endswith("/api/v1/docs/"), page.url
    page.wait_for_selector(".opblock-summary-path")
    paths = sorted(page.locator(".opblock-summary-path").evaluate_all("els => els.map(e => e.dataset.path)"))
    assert paths == OPERATIONS, paths
    assert page.locator(".info .title").inner_text().startswith("nsmap API")
    shot(page, "api-docs")
    nodes = "#operations-nodes-nodes_retrieve"
    page.click(f"{nodes} .opblock-summary")
    page.click(f"{nodes} button.try-out__btn")
    page.click(f"{nodes} button.execute")
    status = page.locator(f"{nodes} .live-responses-table tr.response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200", "the session did not reach the API from the docs page"
    status.scroll_into_view_if_needed()
    shot(page, "api-docs-tried")
    outside = [u for u in requests if not u.startswith(server.url)]
    assert not outside, f"the docs page loaded from elsewhere: {outside}"
    console.check()
