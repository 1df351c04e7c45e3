"""The history's API: the change log filtered by namespace, interface name, field and kind of actor;
first pages without a count; streamed CSV and JSON exports of exactly what is filtered; activity
per host; the graph at a moment (/api/v1/topology/?at=) and the diff of two (/api/v1/diff/).
Bad values are a 400 naming the parameter."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import FIRST_INODE, FakeAgent, make_inventory, upsert
from webui.changelog.models import ChangeRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(ingest: Any, agent: FakeAgent) -> dict[str, Any]:
    """h1 with ns0..ns2; then ns1's eth0 gets MTU 9000 (a change by "user:alice"), ns2's eth0 goes down."""
    inventory = make_inventory("h1", namespaces=3)
    ingest(agent.snapshot(inventory))
    start = timezone.now()
    by_key = {i.key: i for i in inventory.interfaces}
    eth0 = replace(by_key[f"if:{FIRST_INODE + 1}:2"], mtu=9000)
    ingest(agent.delta([upsert(eth0)]))
    ChangeRecord.objects.filter(object_key=eth0.key, action="changed").update(actor="user:alice", request_id="c-1")
    down = replace(by_key[f"if:{FIRST_INODE + 2}:2"], operstate="DOWN", up=False)
    ingest(agent.delta([upsert(down)]))
    return {"start": start, "end": timezone.now(), "mtu_key": eth0.key, "down_key": down.key}


def results(api: Any, query: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/changes/?{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_it_filters_by_interface_name(api, history) -> None:
    found = results(api, "interface=eth0&action=changed")
    assert {r["object_key"] for r in found} == {history["mtu_key"], history["down_key"]}
    assert results(api, "interface=eth") == [], "a name matches whole, not as a prefix"


def test_it_filters_by_namespace_name_with_its_interfaces(api, history) -> None:
    found = results(api, "namespace=ns1")
    keys = {r["object_key"] for r in found}
    assert f"ns:{FIRST_INODE + 1}" in keys and history["mtu_key"] in keys
    assert all(k == f"ns:{FIRST_INODE + 1}" or k.startswith(f"if:{FIRST_INODE + 1}:") for k in keys), keys


def test_it_filters_by_field(api, history) -> None:
    assert [r["object_key"] for r in results(api, "field=mtu")] == [history["mtu_key"]]
    state = results(api, "field=state")
    assert [r["object_key"] for r in state] == [history["down_key"]]
    assert state[0]["changed_fields"] == ["state"]


def test_it_filters_by_kind_of_actor(api, history) -> None:
    by_users = results(api, "actor=user")
    assert [(r["actor"], r["request_id"]) for r in by_users] == [("user:alice", "c-1")]
    assert all(r["actor"].startswith("agent:") for r in results(api, "actor=agent"))
    assert results(api, "actor=user:bob") == []


def test_it_gives_a_first_page_without_counting(api, history) -> None:
    page = api.get("/api/v1/changes/?count=false&page_size=2").json()
    assert page["count"] is None and len(page["results"]) == 2 and "count=false" in page["next"]
    last = api.get(f"/api/v1/changes/?count=false&page_size={ChangeRecord.objects.count()}").json()
    assert last["next"] is None, "a full last page still offers a next one"


def test_it_exports_what_is_filtered_as_csv_and_json(api, history) -> None:
    response = api.get("/api/v1/changes/export/?interface=eth0&action=changed&output=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming and "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["object_id"] for r in rows} == {f"h1/{history['mtu_key']}", f"h1/{history['down_key']}"}
    assert {r["fields"] for r in rows} == {"mtu", "state"}
    assert json.loads(next(r["after"] for r in rows if r["fields"] == "mtu"))["mtu"] == 9000

    response = api.get("/api/v1/changes/export/?actor=user&output=json")
    records = json.loads(b"".join(response.streaming_content))
    assert [(r["actor"], r["changed_fields"]) for r in records] == [("user:alice", ["mtu"])]
    listed = results(api, "actor=user")
    assert records[0].keys() == listed[0].keys(), "an exported record is shaped like the API's"


def test_it_exports_a_name_that_looks_like_a_formula_as_text(api, history) -> None:
    ChangeRecord.objects.filter(object_key=history["mtu_key"]).update(name="=HYPERLINK(1)", actor="@user")
    response = api.get(f"/api/v1/changes/export/?key={history['mtu_key']}&output=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and all(r["name"] == "'=HYPERLINK(1)" and r["actor"] == "'@user" for r in rows), rows


def test_it_counts_activity_per_host_and_bucket(api, history) -> None:
    data = api.get(f"/api/v1/changes/activity/?buckets=4&since={history['start'].isoformat()}").json()
    assert len(data["buckets"]) == 4 and [h["host"] for h in data["hosts"]] == ["h1"]
    assert sum(data["hosts"][0]["counts"]) == ChangeRecord.objects.filter(time__gte=history["start"]).count()


def test_it_draws_the_graph_at_a_moment(api, history) -> None:
    then = api.get(f"/api/v1/topology/?at={history['start'].isoformat()}").json()
    eth0 = next(i for i in then["interfaces"] if i["key"] == history["mtu_key"])
    assert eth0["mtu"] == 1500, "the graph at a moment shows the MTU before the change"
    assert api.get("/api/v1/topology/?at=").json()["interfaces"], "an empty at is the live graph"


def test_it_diffs_two_moments(api, history) -> None:
    diff = api.get("/api/v1/diff/", {"from": history["start"].isoformat(), "to": history["end"].isoformat()}).json()
    fields = {c["id"]: c["fields"] for c in diff["changed"]}
    assert fields[f"h1/{history['mtu_key']}"] == {"mtu": [1500, 9000]}
    assert fields[f"h1/{history['down_key']}"] == {"operstate": ["UP", "DOWN"], "up": [True, False]}
    assert diff["added"] == diff["removed"] == []


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/changes/?field=colour", "field"),
        ("/api/v1/changes/?count=maybe", "count"),
        ("/api/v1/changes/export/?output=xml", "output"),
        ("/api/v1/changes/export/?bogus=1", "bogus"),
        ("/api/v1/changes/activity/?buckets=0", "buckets"),
        ("/api/v1/topology/?at=yesterday", "at"),
        ("/api/v1/diff/?to=2026-01-01T00:00:00Z", "from"),
        ("/api/v1/diff/?from=2026-01-01T00:00:00Z&to=soon", "to"),
        ("/api/v1/diff/?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
    ],
)
def test_it_refuses_bad_values_naming_them(api, history, path: str, name: str) -> None:
    response = api.get(path)
    assert response.status_code == 400 and name in response.json()["fields"], response.content
