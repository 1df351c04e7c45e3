"""Hostile query parameters on the REST API: a 4xx JSON reason every time, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import FakeAgent, make_inventory

pytestmark = pytest.mark.django_db

HOSTILE = [
    "page=9223372036854775807",
    "page=99999999999999999999",
    "page=-1",
    "page=1e3",
    "page_size=9223372036854775807",
    "upto=9223372036854775808",
    "upto=99999999999999999999",
    "upto=-5",
    "since=9999-12-31T23:59:59-23:59",
    "since=0001-01-01T00:00:00+01:00",
    "until=0001-01-01T00:00:00+01:00",
    "until=9999-12-31T23:59:59-23:59",
    "since=2026-01-01T00:00:00+99:00",
    "since=%00",
    "until=100%25%28x%29s",
    "since=%25s%25d",
    "node=%00",
    "key=a%00b",
    "actor=" + "x" * 5000,
    "kind=namespace&kind=interface&kind=%00",
    "format=xml",
    "node=h1&node=h2",
    "page=1&page=2",
]


@pytest.fixture
def logged(ingest, agent: FakeAgent) -> FakeAgent:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    return agent


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: q[:60])
def test_it_answers_a_4xx_json_reason_to_a_hostile_change_log_query(api, logged, query: str) -> None:
    response = api.get(f"/api/v1/changes/?{query}")
    assert 400 <= response.status_code < 500, f"{query}: {response.status_code} {response.content[:300]!r}"
    assert response["Content-Type"] == "application/json", f"{query}: {response['Content-Type']}"
    assert response.json()["error"], f"{query}: no reason in {response.content[:300]!r}"


def test_it_takes_an_empty_value_as_a_parameter_left_out(api, logged) -> None:
    everything = api.get("/api/v1/changes/").json()["count"]
    response = api.get("/api/v1/changes/?page=&page_size=&upto=&kind=&action=&node=&since=&until=")
    assert response.status_code == 200 and response.json()["count"] == everything


def test_it_answers_an_empty_page_past_the_last_one(api, logged) -> None:
    response = api.get("/api/v1/changes/?page=99999")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["results"] == [] and data["next"] is None and "page=99998" in data["previous"]
