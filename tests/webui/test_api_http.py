"""What every API answer carries: JSON whatever the client asks for, ``Cache-Control: no-store``,
and gzip when the client accepts it (the graph at 20 hosts is megabytes)."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.factories import FakeAgent, make_inventory

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/topology/", "/api/v1/nodes/", "/api/v1/changes/"]


@pytest.fixture
def graph(ingest, agent: FakeAgent) -> FakeAgent:
    ingest(agent.snapshot(make_inventory("h1", namespaces=20)))
    return agent


@pytest.mark.parametrize("path", ENDPOINTS)
def test_it_forbids_caches_to_keep_api_answers(api, client, path: str) -> None:
    assert api.get(path)["Cache-Control"] == "no-store"
    assert api.get(path + "?page=0" if "changes" in path else path)["Cache-Control"] == "no-store"
    del client.defaults["HTTP_AUTHORIZATION"]
    assert client.get(path)["Cache-Control"] == "no-store", "the 401 is an API answer too"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_it_gzips_when_the_client_accepts_it(api, graph, path: str) -> None:
    plain = api.get(path)
    packed = api.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
    assert packed["Content-Encoding"] == "gzip", f"{path} answered without gzip"
    assert json.loads(gzip.decompress(packed.content)) == json.loads(plain.content)


def test_it_sends_the_graph_in_a_fraction_of_its_size(api, graph) -> None:
    plain = api.get("/api/v1/topology/").content
    packed = api.get("/api/v1/topology/", HTTP_ACCEPT_ENCODING="gzip").content
    assert len(packed) < len(plain) / 5, f"{len(packed)} gzipped bytes for {len(plain)}"


def test_it_answers_json_to_a_client_that_asks_for_html(api, graph) -> None:
    response = api.get("/api/v1/nodes/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["count"] == 1


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_it_refuses_other_methods_with_a_json_reason(api, method: str) -> None:
    response = getattr(api, method)("/api/v1/changes/")
    assert response.status_code == 405 and response.json()["error"]


def test_it_names_only_the_methods_it_serves(api) -> None:
    assert api.get("/api/v1/nodes/")["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_it_refuses_a_format_other_than_json_with_a_reason(api, path: str) -> None:
    assert api.get(f"{path}?format=json").status_code == 200
    response = api.get(f"{path}?format=xml")
    assert response.status_code == 400 and "json" in response.json()["error"]
