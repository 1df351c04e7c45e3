"""A node without messages for NSMAP_STALE_AFTER seconds turns stale (patch + change record);
its next message brings it back online."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import FakeAgent, make_inventory
from webui.changelog.models import ChangeRecord
from webui.topology.liveness import mark_stale
from webui.topology.models import Node

pytestmark = pytest.mark.django_db


def test_it_marks_a_silent_node_stale_and_back_online(
    ingest, agent: FakeAgent, patches, settings, api, django_capture_on_commit_callbacks
) -> None:
    settings.NSMAP_STALE_AFTER = 10
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    assert mark_stale() == []
    Node.objects.filter(name="h1").update(last_heartbeat=timezone.now() - timedelta(seconds=11))
    # the API checks on every request, so a stale node never shows as online
    with django_capture_on_commit_callbacks(execute=True):
        assert api.get("/api/v1/nodes/").json()["results"][0]["state"] == "stale"
    assert patches[-1]["upsert"]["hosts"][0]["state"] == "stale"
    record = ChangeRecord.objects.filter(object_kind="host").latest("id")
    assert (record.before["state"], record.after["state"], record.actor) == ("online", "stale", "server")
    assert mark_stale() == []  # once
    ingest(agent.heartbeat())
    assert Node.objects.get(name="h1").state == "online"
    assert patches[-1]["upsert"]["hosts"][0]["state"] == "online"


def test_it_counts_a_heartbeat_as_life_without_a_patch(ingest, agent: FakeAgent, patches) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    count = len(patches)
    before = Node.objects.get(name="h1").last_heartbeat
    assert ingest(agent.heartbeat()).status == "heartbeat"
    assert Node.objects.get(name="h1").last_heartbeat > before and len(patches) == count
