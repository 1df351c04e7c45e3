"""Past moments from checkpoints plus replay, and retention that never breaks replay.

A moment T is the log position G(T): the last record published at or before T. Its state is the
newest checkpoint at or before G(T) plus the records after that checkpoint up to G(T); checkpoints
are taken every NSMAP_CHECKPOINT_RECORDS records or NSMAP_CHECKPOINT_MINUTES minutes (a periodic
task: Celery beat in distributed mode, a thread of nsmap_serve in embedded mode), so a moment never
costs more than one checkpoint and that many records, whatever the size of the log.

Records are read in graph_seq order. Patch numbers are taken under a row lock that is held until
commit (webui/topology/ingest.py ``_next_graph_seq``), so every record up to the largest visible
graph_seq is committed: a checkpoint never misses a record that commits later.

Retention deletes records older than NSMAP_HISTORY_DAYS, after first writing a ``floor``
checkpoint at the last record it deletes: every moment from the floor on can still be drawn.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.fields.json import KT
from django.utils import timezone

from webui.changelog.models import ChangeRecord, Checkpoint
from webui.changelog.replay import REPLAY_FIELDS, Timeline, changes, graph_json

log = logging.getLogger("nsmap.history")

DELETE_BATCH = 20_000


class BeforeHistory(ValueError):
    """The moment is older than what retention kept."""


def position_at(moment: datetime) -> int | None:
    """G(T): the graph_seq of the last record at or before ``moment`` (None: nothing yet).
    A floor checkpoint answers for the pruned part of the log."""
    row = ChangeRecord.objects.filter(time__lte=moment).order_by("-time", "-id").values_list("graph_seq").first()
    if row is not None:
        return int(row[0])
    floor = Checkpoint.objects.filter(floor=True).order_by("-graph_seq").first()
    if floor is None:
        return None
    if moment < floor.time:
        raise BeforeHistory(f"history before {floor.time.isoformat()} was pruned (NSMAP_HISTORY_DAYS)")
    return floor.graph_seq


def _records(after: int, upto: int | None) -> Any:
    records = ChangeRecord.objects.filter(graph_seq__gt=after)
    if upto is not None:
        records = records.filter(graph_seq__lte=upto)
    records = records.annotate(before_key=KT("before__key")).order_by("graph_seq", "position")
    return records.values(*REPLAY_FIELDS).iterator(chunk_size=2000)


def timeline_at_position(position: int | None, nodes: list[str] | None = None) -> Timeline:
    """The state after record ``position`` (None: before any record)."""
    if position is None:
        return Timeline()
    checkpoint = Checkpoint.objects.filter(graph_seq__lte=position).order_by("-graph_seq").first()
    timeline = Timeline.load(bytes(checkpoint.data)) if checkpoint else Timeline()
    if nodes is not None:
        timeline = timeline.only(nodes)
    records = _records(timeline.graph_seq, position)
    if nodes is not None:
        records = (r for r in records if r["node"] in nodes)
    timeline.apply(records)
    timeline.graph_seq = max(timeline.graph_seq, position)
    return timeline


def timeline_at(moment: datetime, nodes: list[str] | None = None) -> Timeline:
    return timeline_at_position(position_at(moment), nodes)


def graph_at(moment: datetime, nodes: list[str] | None = None) -> dict[str, Any]:
    """The graph JSON (docs/CONTRACTS.md) as it was at ``moment``; ``seq`` is the last patch
    number at that moment."""
    return graph_json(timeline_at(moment, nodes))


def diff_between(start: datetime, end: datetime, nodes: list[str] | None = None) -> dict[str, Any]:
    return changes(timeline_at(start, nodes), timeline_at(end, nodes))


# -- checkpoints -----------------------------------------------------------------------------------


def _save(timeline: Timeline, time: datetime, records: int, *, floor: bool = False) -> Checkpoint | None:
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                graph_seq=timeline.graph_seq, time=time, records=records, floor=floor, data=timeline.dump()
            )
    except IntegrityError:  # another worker wrote the same one
        if floor:
            Checkpoint.objects.filter(graph_seq=timeline.graph_seq).update(floor=True)
        return None


def _checkpoint(timeline: Timeline, batch: list[dict[str, Any]]) -> int:
    timeline.apply(batch)
    return int(_save(timeline, batch[-1]["time"], len(batch)) is not None)


def take_checkpoints(now: datetime | None = None, *, force: bool = False) -> int:
    """Write the checkpoints that are due: one per NSMAP_CHECKPOINT_RECORDS records since the last
    one (several when the log ran ahead, e.g. on first use), and one for what is left when the last
    is older than NSMAP_CHECKPOINT_MINUTES (or ``force``). Returns how many were written."""
    now = now or timezone.now()
    every = settings.NSMAP_CHECKPOINT_RECORDS
    last = Checkpoint.objects.defer("data").order_by("-graph_seq").first()
    if not ChangeRecord.objects.filter(graph_seq__gt=last.graph_seq if last else 0).exists():
        return 0  # the common case every minute: nothing new, so no checkpoint is read
    timeline = Timeline.load(bytes(last.data)) if last else Timeline()
    written = 0
    batch: list[dict[str, Any]] = []
    for record in _records(timeline.graph_seq, None):
        # a checkpoint never splits one patch: flush only between graph_seq values
        if len(batch) >= every and record["graph_seq"] != batch[-1]["graph_seq"]:
            written += _checkpoint(timeline, batch)
            batch = []
        batch.append(record)
    due = force or last is None or now - last.time >= timedelta(minutes=settings.NSMAP_CHECKPOINT_MINUTES)
    if batch and (len(batch) >= every or due):
        written += _checkpoint(timeline, batch)
    return written


# -- retention -------------------------------------------------------------------------------------


def prune(now: datetime | None = None, days: float | None = None) -> dict[str, int]:
    """Delete records older than ``days`` (NSMAP_HISTORY_DAYS) and the checkpoints they made
    unnecessary; first a floor checkpoint at the last deleted record, so replay still works."""
    now = now or timezone.now()
    days = settings.NSMAP_HISTORY_DAYS if days is None else days
    cutoff = now - timedelta(days=days)
    last_old = ChangeRecord.objects.filter(time__lt=cutoff).order_by("-graph_seq").values("graph_seq", "time").first()
    if last_old is None:
        return {"records": 0, "checkpoints": 0}
    position = int(last_old["graph_seq"])
    if not Checkpoint.objects.filter(graph_seq=position).update(floor=True):  # else replay up to it
        _save(timeline_at_position(position), last_old["time"], 0, floor=True)
    deleted_checkpoints, _ = Checkpoint.objects.filter(graph_seq__lt=position).delete()
    deleted = 0
    while True:
        ids = list(ChangeRecord.objects.filter(graph_seq__lte=position).values_list("id", flat=True)[:DELETE_BATCH])
        if not ids:
            break
        deleted += ChangeRecord.objects.filter(id__in=ids).delete()[0]
    log.info("history pruned before %s: %d records, %d checkpoints", cutoff.isoformat(), deleted, deleted_checkpoints)
    return {"records": deleted, "checkpoints": deleted_checkpoints}


def maintain(now: datetime | None = None) -> dict[str, int]:
    """The periodic work: checkpoints that are due, then retention."""
    written = take_checkpoints(now)
    return {"checkpoints_written": written, **prune(now)}
