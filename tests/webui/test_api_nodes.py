"""/api/v1/nodes/: each host's state, run, last seq and counts; never its key."""

from __future__ import annotations

import pytest

from tests.factories import FakeAgent, make_inventory

pytestmark = pytest.mark.django_db


def test_it_lists_nodes_with_run_seq_and_counts(api, ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    ingest(agent.heartbeat())
    data = api.get("/api/v1/nodes/").json()
    assert data["count"] == 1
    node = data["results"][0]
    assert (node["name"], node["state"], node["run"], node["seq"]) == ("h1", "online", agent.run, 2)
    assert (node["namespaces"], node["interfaces"]) == (3, 8)
    assert node["last_heartbeat"].endswith("Z") and node["has_key"] is True
    assert "key" not in node and agent.key not in str(data)


def test_it_shows_a_registered_node_that_never_spoke_as_offline(api, agent: FakeAgent) -> None:
    node = api.get("/api/v1/nodes/").json()["results"][0]
    assert (node["state"], node["run"], node["last_heartbeat"]) == ("offline", None, None)
