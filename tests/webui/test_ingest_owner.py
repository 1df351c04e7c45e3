"""A namespace's owner is stored with it, labels it, follows a rename, reaches the graph JSON and
the REST API; an owner off the protocol's rules is rejected and changes nothing."""

from __future__ import annotations

import json

import pytest

from agent import signing
from agent.protocol import Owner
from tests.factories import FIRST_INODE, FakeAgent, make_inventory, make_namespace
from tests.factories import upsert as up
from webui.topology.models import Namespace

pytestmark = pytest.mark.django_db

CID = "ab" * 32


def owned(name: str) -> Owner:
    return Owner(runtime="docker", name=name, id=CID, containers=(name,), project="shop", networks=("shop_default",))


@pytest.fixture
def synced(ingest, agent: FakeAgent) -> FakeAgent:
    inventory = make_inventory("h1", namespaces=1)
    inventory.namespaces[1] = make_namespace(FIRST_INODE, kind="docker", names=["fb14dbc8f050"], owner=owned("web-1"))
    assert ingest(agent.snapshot(inventory)).status == "applied"
    return agent


def test_it_labels_a_namespace_by_its_owner_and_keeps_the_owner(synced: FakeAgent) -> None:
    row = Namespace.objects.get(key=f"ns:{FIRST_INODE}")
    assert row.label == "web-1"
    assert row.owner is not None and (row.owner["name"], row.owner["id"], row.owner["project"]) == (
        "web-1",
        CID,
        "shop",
    )
    assert row.names == ["fb14dbc8f050"]  # the netns file's name stays in the details


def test_it_follows_a_rename_and_sends_it_to_the_page(ingest, synced: FakeAgent, patches) -> None:
    renamed = make_namespace(FIRST_INODE, kind="docker", names=["fb14dbc8f050"], owner=owned("web-2"))
    assert ingest(synced.delta([up(renamed)])).status == "applied"
    assert Namespace.objects.get(key=renamed.key).label == "web-2"
    sent = patches[-1]["upsert"]["namespaces"][0]
    assert (sent["label"], sent["owner"]["name"], sent["owner"]["runtime"]) == ("web-2", "web-2", "docker")


def test_it_shows_the_owner_in_the_graph_api(synced: FakeAgent, client, admin_user) -> None:
    client.force_login(admin_user)
    response = client.get("/api/v1/topology/")
    assert response.status_code == 200
    ns = next(n for n in response.json()["namespaces"] if n["key"] == f"ns:{FIRST_INODE}")
    assert ns["label"] == "web-1" and ns["owner"]["containers"] == ["web-1"] and ns["holder"] is None


def test_it_rejects_an_owner_off_the_rules_and_changes_nothing(ingest, synced: FakeAgent) -> None:
    body, _sig = synced.delta([up(make_namespace(FIRST_INODE, kind="docker", names=["x"], owner=owned("web-3")))])
    message = json.loads(body)
    message["changes"][0]["data"]["owner"]["name"] = "web\n3"
    text = json.dumps(message)
    result = ingest(text, signing.sign(text.encode(), synced.key) if synced.key else None)
    assert result.status == "rejected" and "owner" in result.reason
    assert Namespace.objects.get(key=f"ns:{FIRST_INODE}").label == "web-1"
