"""What changed between two moments: added and removed objects by id, and for the rest each field
that differs as [before, after]; the same however many checkpoints lie between."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from agent.protocol import Address
from tests.factories import FIRST_INODE, ROOT_INODE, FakeAgent, make_interface, make_inventory, remove, upsert
from webui.changelog.timetravel import diff_between, take_checkpoints

pytestmark = pytest.mark.django_db


@pytest.fixture
def moments(ingest: Any, settings: Any) -> dict[str, Any]:
    settings.NSMAP_CHECKPOINT_RECORDS = 2
    from webui.topology.models import Node

    Node.objects.create(name="h1", key="k" * 40)
    agent = FakeAgent("h1", key="k" * 40)
    ingest(agent.snapshot(make_inventory("h1", namespaces=3)))
    at = {"start": timezone.now()}
    eth0 = make_interface(FIRST_INODE + 1, 2, "eth0", peer=f"if:{ROOT_INODE}:101", peer_ifindex=101, mtu=9000)
    eth0.addresses = [Address(4, "10.9.9.9", 24)]
    ingest(agent.delta([upsert(eth0)]))
    take_checkpoints(force=True)
    ingest(
        agent.delta([remove("interface", f"if:{FIRST_INODE + 2}:2"), remove("interface", f"if:{FIRST_INODE + 2}:1")])
    )
    ingest(agent.delta([remove("namespace", f"ns:{FIRST_INODE + 2}")]))
    extra = make_interface(ROOT_INODE, 300, "lab0", kind="bridge")
    ingest(agent.delta([upsert(extra)]))
    take_checkpoints(force=True)
    at["end"] = timezone.now()
    return at


def test_it_lists_added_removed_and_changed_fields(moments) -> None:
    diff = diff_between(moments["start"], moments["end"])
    assert [a["id"] for a in diff["added"]] == [f"h1/if:{ROOT_INODE}:300"]
    assert {r["id"] for r in diff["removed"]} == {
        f"h1/ns:{FIRST_INODE + 2}",
        f"h1/if:{FIRST_INODE + 2}:1",
        f"h1/if:{FIRST_INODE + 2}:2",
    }
    changed = {c["id"]: c["fields"] for c in diff["changed"]}
    eth0 = changed[f"h1/if:{FIRST_INODE + 1}:2"]
    assert eth0["mtu"] == [1500, 9000]
    assert eth0["addresses"][1] == [{"family": 4, "address": "10.9.9.9", "prefixlen": 24, "scope": "global"}]
    assert set(eth0) == {"mtu", "addresses"}, f"only the fields that changed: {sorted(eth0)}"


def test_it_is_symmetric_when_the_moments_are_swapped(moments) -> None:
    forward = diff_between(moments["start"], moments["end"])
    backward = diff_between(moments["end"], moments["start"])
    assert backward["added"] == forward["removed"] and backward["removed"] == forward["added"]
    assert {c["id"]: {f: v[::-1] for f, v in c["fields"].items()} for c in backward["changed"]} == {
        c["id"]: c["fields"] for c in forward["changed"]
    }


def test_it_finds_nothing_between_a_moment_and_itself(moments) -> None:
    assert diff_between(moments["end"], moments["end"]) == {"added": [], "removed": [], "changed": []}
