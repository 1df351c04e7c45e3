"""The topology as it was at any moment: a checkpoint plus the records after it gives exactly the
graph the live API showed at that moment, through moves, changes, removals and a forgotten node."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import FIRST_INODE, ROOT_INODE, FakeAgent, make_interface, make_inventory, remove, upsert
from webui.changelog.models import ChangeRecord, Checkpoint
from webui.changelog.timetravel import graph_at, take_checkpoints, timeline_at
from webui.topology.graph import iso
from webui.topology.liveness import forget_node
from webui.topology.models import Node
from webui.topology.queries import load_graph

pytestmark = pytest.mark.django_db

TIMES = ("first_seen", "changed", "last_seen")


def comparable(graph: dict[str, Any]) -> dict[str, Any]:
    """The graph without the times the log keeps only to the record (first seen, changed)."""

    def strip(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(({k: v for k, v in i.items() if k not in TIMES} for i in items), key=lambda i: i["id"])

    return {part: strip(graph[part]) for part in ("hosts", "namespaces", "interfaces")}


def _steps(agent: FakeAgent, ingest: Any) -> list[str]:
    """A small history; returns what each step did."""
    done = []
    ingest(agent.snapshot(make_inventory("h1", namespaces=4)))
    done.append("snapshot of 4 namespaces")
    eth0 = make_interface(FIRST_INODE + 1, 2, "eth0", peer=f"if:{ROOT_INODE}:101", peer_ifindex=101, mtu=9000)
    ingest(agent.delta([upsert(eth0)]))
    done.append("mtu of ns1's eth0")
    moved = make_interface(FIRST_INODE + 3, 7, "eth0", mac=eth0.mac, peer=f"if:{ROOT_INODE}:101", peer_ifindex=101)
    ingest(agent.delta([remove("interface", eth0.key), upsert(moved)]))
    done.append("eth0 moved from ns1 to ns3")
    ingest(agent.delta([remove("interface", f"if:{FIRST_INODE}:2"), remove("interface", f"if:{FIRST_INODE}:1")]))
    ingest(agent.delta([remove("namespace", f"ns:{FIRST_INODE}")]))
    done.append("ns0 removed")
    renamed = make_interface(ROOT_INODE, 102, "uplink-2", peer=f"if:{FIRST_INODE + 2}:2", peer_ifindex=2)
    renamed.master = f"if:{ROOT_INODE}:2"
    ingest(agent.delta([upsert(renamed)]))
    done.append("veth2 renamed")
    return done


@pytest.fixture
def two_hosts(ingest: Any, settings: Any) -> list[tuple[Any, dict[str, Any], str]]:
    """Moments of a history on h1 and h2 with the live graph at each, checkpoints every 5 records."""
    settings.NSMAP_CHECKPOINT_RECORDS = 5
    moments = [(timezone.now(), load_graph(), "before anything")]
    # a node registered but never heard from is not in the log: register each just before it reports
    Node.objects.create(name="h2", key="k" * 40)
    h1, h2 = FakeAgent("h1", key="k" * 40), FakeAgent("h2", key="k" * 40)
    ingest(h2.snapshot(make_inventory("h2", namespaces=2)))
    moments.append((timezone.now(), load_graph(), "h2 snapshot"))

    def step(message: tuple[str, str | None]) -> None:
        result = ingest(message)
        assert result.status == "applied", result
        take_checkpoints()
        moments.append((timezone.now(), load_graph(), "after a step"))

    Node.objects.create(name="h1", key="k" * 40)
    _steps(h1, step)
    forget_node("h2", actor="user:admin")
    moments.append((timezone.now(), load_graph(), "h2 forgotten"))
    return moments


def test_it_draws_every_moment_as_the_live_graph_showed_it(two_hosts) -> None:
    assert Checkpoint.objects.count() >= 2, "the history was too short to go through checkpoints"
    for moment, live, what in two_hosts:
        assert comparable(graph_at(moment)) == comparable(live), f"the graph at {what} differs from the live one"


def test_it_gives_the_last_patch_number_of_the_moment(two_hosts) -> None:
    for moment, live, what in two_hosts[1:]:
        assert graph_at(moment)["seq"] == live["seq"], what


def test_it_gives_the_same_graph_without_any_checkpoint(two_hosts) -> None:
    with_checkpoints = [comparable(graph_at(m)) for m, _, _ in two_hosts]
    Checkpoint.objects.all().delete()
    assert [comparable(graph_at(m)) for m, _, _ in two_hosts] == with_checkpoints


def test_it_keeps_when_an_object_was_first_seen(ingest) -> None:
    Node.objects.create(name="h1", key="k" * 40)
    agent = FakeAgent("h1", key="k" * 40)
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    eth0 = make_interface(FIRST_INODE, 2, "eth0", peer=f"if:{ROOT_INODE}:100", peer_ifindex=100, mtu=1400)
    ingest(agent.delta([upsert(eth0)]))
    added, changed_at = (
        iso(ChangeRecord.objects.get(object_key=eth0.key, action=action).time) for action in ("added", "changed")
    )
    past = next(i for i in graph_at(timezone.now())["interfaces"] if i["key"] == eth0.key)
    assert past["first_seen"] == added, "a change reset first_seen"
    assert past["changed"] == changed_at and changed_at > added


def test_it_can_look_at_one_host_only(two_hosts) -> None:
    moment = two_hosts[3][0]
    only = timeline_at(moment, nodes=["h2"])
    assert set(only.nodes) == {"h2"}


def test_it_draws_nothing_before_the_first_record(db) -> None:
    graph = graph_at(timezone.now() - timedelta(days=1))
    assert graph == {"seq": 0, "hosts": [], "namespaces": [], "interfaces": []}
