"""Retention: records older than NSMAP_HISTORY_DAYS go, a floor checkpoint stands in for them, and
every moment from the floor on is still drawn exactly; older moments are refused with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import FIRST_INODE, ROOT_INODE, FakeAgent, make_interface, make_inventory, upsert
from tests.webui.test_history_time_travel import comparable
from webui.changelog.models import ChangeRecord, Checkpoint
from webui.changelog.timetravel import BeforeHistory, graph_at, maintain, prune
from webui.topology.models import Node
from webui.topology.queries import load_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``timezone.now()`` under the test's control: ``clock.now += timedelta(days=1)``."""

    class Clock:
        now = datetime.fromisoformat("2026-10-01T12:00:00+00:00")

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


@pytest.fixture
def daily_history(ingest: Any, clock: Any, settings: Any) -> list[tuple[datetime, dict[str, Any]]]:
    """Ten days, one MTU change a day on h1's ns0 eth0; the moment and live graph after each."""
    settings.NSMAP_MAX_CLOCK_SKEW = 10**9  # the server's clock runs through days, the agent's does not
    Node.objects.create(name="h1", key="k" * 40)
    agent = FakeAgent("h1", key="k" * 40)
    ingest(agent.snapshot(make_inventory("h1", namespaces=2)))
    moments = [(clock.now, load_graph())]
    for day in range(1, 10):
        clock.now += timedelta(days=1)
        eth0 = make_interface(FIRST_INODE, 2, "eth0", peer=f"if:{ROOT_INODE}:100", peer_ifindex=100, mtu=1400 + day)
        assert ingest(agent.delta([upsert(eth0)])).status == "applied"
        moments.append((clock.now, load_graph()))
    return moments


def test_it_prunes_old_records_and_still_draws_every_kept_moment(daily_history, clock) -> None:
    clock.now += timedelta(hours=1)
    result = prune(days=4.5)
    assert result["records"] > 0
    cutoff = clock.now - timedelta(days=4.5)
    assert not ChangeRecord.objects.filter(time__lt=cutoff).exists(), "records older than the retention remain"
    floor = Checkpoint.objects.get(floor=True)
    for moment, live in daily_history:
        if moment >= floor.time:
            assert comparable(graph_at(moment)) == comparable(live), f"the graph at {moment} changed by pruning"
        else:
            with pytest.raises(BeforeHistory):
                graph_at(moment)


def test_it_prunes_twice_without_losing_a_moment(daily_history, clock) -> None:
    clock.now += timedelta(hours=1)
    prune(days=6.5)
    prune(days=3.5)
    assert Checkpoint.objects.filter(floor=True).count() == 1, "older floors must go with their records"
    kept = [(m, g) for m, g in daily_history if m >= Checkpoint.objects.get(floor=True).time]
    assert len(kept) == 5  # days 5 (the floor itself) to 9
    for moment, live in kept:
        assert comparable(graph_at(moment)) == comparable(live)


def test_it_changes_nothing_when_nothing_is_old_enough(daily_history, clock) -> None:
    before = ChangeRecord.objects.count()
    assert prune(days=30) == {"records": 0, "checkpoints": 0}
    assert ChangeRecord.objects.count() == before
    assert not Checkpoint.objects.exists()


def test_it_runs_as_the_periodic_work_and_as_a_command(daily_history, clock, settings, capsys) -> None:
    settings.NSMAP_HISTORY_DAYS = 5.5
    clock.now += timedelta(hours=1)
    assert maintain()["records"] > 0
    assert Checkpoint.objects.filter(floor=True).exists()
    call_command("nsmap_history", "prune", "--days", "2.5")
    assert "pruned" in capsys.readouterr().out
    assert ChangeRecord.objects.order_by("time").first().time >= clock.now - timedelta(days=2.5)


def test_it_refuses_a_retention_of_zero_days(db) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="more than 0"):
        call_command("nsmap_history", "prune", "--days", "0")
