"""`manage.py nsmap_node add|list|remove|rotate`: the key is printed once and verifies messages."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import FakeAgent, make_inventory
from webui.changelog.models import ChangeRecord
from webui.topology.models import GraphVersion, Namespace, Node

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("nsmap_node", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_adds_a_node_whose_key_signs_accepted_messages(ingest) -> None:
    key = _run("add", "edge-1").strip().splitlines()[-1]
    assert len(key) >= 32
    assert ingest(FakeAgent("edge-1", key=key).snapshot(make_inventory("edge-1", 1))).status == "applied"
    assert key not in _run("list") and "edge-1" in _run("list")


def test_it_refuses_to_add_a_node_twice_or_a_bad_name() -> None:
    _run("add", "edge-1")
    with pytest.raises(CommandError, match="already"):
        _run("add", "edge-1")
    with pytest.raises(CommandError):
        _run("add", "bad name/with slash")


def test_it_rotates_a_key_so_the_old_one_stops_verifying(ingest) -> None:
    old = _run("add", "edge-1").strip().splitlines()[-1]
    new = _run("rotate", "edge-1").strip().splitlines()[-1]
    assert old != new
    assert ingest(FakeAgent("edge-1", key=old).heartbeat()).status == "rejected"
    assert ingest(FakeAgent("edge-1", key=new).snapshot(make_inventory("edge-1", 1))).status == "applied"


def test_it_removes_a_node_logging_and_broadcasting_every_removal(
    ingest, patches, django_capture_on_commit_callbacks
) -> None:
    key = _run("add", "edge-1").strip().splitlines()[-1]
    ingest(FakeAgent("edge-1", key=key).snapshot(make_inventory("edge-1", 1)))
    version = GraphVersion.objects.get().seq
    with django_capture_on_commit_callbacks(execute=True):
        _run("remove", "edge-1")
    assert not Node.objects.filter(name="edge-1").exists() and not Namespace.objects.exists()
    assert GraphVersion.objects.get().seq == version + 1
    removed = ChangeRecord.objects.filter(graph_seq=version + 1)
    assert {r.action for r in removed} == {"removed"} and removed.count() == 1 + 2 + 5
    assert removed.get(object_kind="host").actor.startswith("cli:")
    assert patches[-1]["remove"]["hosts"] == ["edge-1"] and len(patches[-1]["remove"]["interfaces"]) == 5
    with pytest.raises(CommandError):
        _run("remove", "edge-1")
