"""The OpenAPI schema (/api/v1/schema/) validates without a warning, documents every operation
with its filters and errors, and the docs page (/api/v1/docs/) is served from local files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

OPERATIONS = {
    *("/api/v1/topology/", "/api/v1/nodes/", "/api/v1/changes/", "/api/v1/changes/export/"),
    *("/api/v1/changes/activity/", "/api/v1/diff/", "/api/v1/commands/", "/api/v1/commands/{id}/"),
}
FILTERS = {
    *("node", "kind", "key", "namespace", "interface", "action", "field", "actor", "request_id", "since", "until"),
    *("page", "page_size", "upto", "count"),
}


def test_it_generates_a_valid_schema_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))  # CommandError on a warning
    assert "openapi: 3" in out.read_text()


def test_it_serves_the_schema_to_signed_in_users_only(api, client) -> None:
    schema = api.get("/api/v1/schema/?format=json").json()
    assert set(schema["paths"]) == OPERATIONS
    del client.defaults["HTTP_AUTHORIZATION"]
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 401 and response.json()["error"]


def test_it_documents_every_filter_and_error(api) -> None:
    schema = api.get("/api/v1/schema/?format=json").json()
    changes = schema["paths"]["/api/v1/changes/"]["get"]
    assert {p["name"] for p in changes["parameters"]} == FILTERS
    assert all(p["schema"].get("type") for p in changes["parameters"]), "a filter without a type"
    lengths = {p["name"]: p["schema"].get("maxLength") for p in changes["parameters"]}
    assert lengths["node"] == 63 and lengths["key"] == 140, "text filters document their length limit"
    assert set(changes["responses"]) == {"200", "400", "401"}
    for path in ("/api/v1/nodes/",):
        assert set(schema["paths"][path]["get"]["responses"]) == {"200", "401"}
    commands = schema["paths"]["/api/v1/commands/"]
    assert set(commands["post"]["responses"]) == {"200", "202", "400", "401", "403", "409"}
    assert set(schema["paths"]["/api/v1/commands/{id}/"]["get"]["responses"]) == {"200", "401", "404"}
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


def test_it_types_every_field_of_every_answer(api) -> None:
    """Every property has a type (or is a reference to a typed component)."""
    components = api.get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    untyped = [
        f"{name}.{field}"
        for name, component in components.items()
        for field, prop in component.get("properties", {}).items()
        if not (prop.get("type") or prop.get("$ref") or prop.get("oneOf") or prop.get("allOf"))
    ]
    assert not untyped, f"untyped fields: {untyped}"


def test_it_sends_anonymous_visitors_of_the_docs_page_to_sign_in(client) -> None:
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_serves_the_docs_page_and_its_assets_locally(client, viewer) -> None:
    assert client.login(username="viewer1", password="pw-viewer-1")
    page = client.get("/api/v1/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources), f"assets from elsewhere: {sources}"
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200, f"{source}: {response.status_code}"
    script = next(s for s in sources if "script" in s)
    assert "/api/v1/schema/" in client.get(script).content.decode()
