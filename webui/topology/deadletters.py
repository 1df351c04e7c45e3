"""Messages set aside: admitted (signed, in sequence, valid) but failed to apply with a database
error. The ingest keeps them here with the reason so that one bad message neither rolls back the
others of its batch nor blocks the node's inbox (webui/topology/ingest.py); the nodes API shows
them per node (``summaries``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count

from webui.topology.models import DeadLetter, Node

KEPT = 100  # per node: the newest are kept, older ones deleted
BODY_LIMIT = 64 * 1024
RECENT = 5  # shown per node by the API


def set_aside(node: Node, received: datetime, messages: Iterable[tuple[bytes, dict[str, Any]]], reason: str) -> None:
    """Store ``messages`` (raw body, parsed data) with ``reason``; keep the newest KEPT per node."""
    DeadLetter.objects.bulk_create(
        DeadLetter(
            node=node,
            received=received,
            run=data["run"],
            seq=data["seq"],
            type=data["type"],
            reason=reason[:2000],
            body=raw[:BODY_LIMIT].decode("utf-8", "replace"),
        )
        for raw, data in messages
    )
    old = DeadLetter.objects.filter(node=node).order_by("-id").values_list("id", flat=True)[KEPT:]
    DeadLetter.objects.filter(id__in=list(old)).delete()


def summaries(node_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per node id: ``{"count": N, "recent": [{received, run, seq, type, reason}, ...]}`` (newest
    first, at most RECENT), for every id given (count 0 when none). What /api/v1/nodes/ shows."""
    ids = list(node_ids)
    out: dict[int, dict[str, Any]] = {i: {"count": 0, "recent": []} for i in ids}
    counts = DeadLetter.objects.filter(node_id__in=ids).values("node_id").annotate(n=Count("id"))
    for row in counts:
        out[row["node_id"]]["count"] = row["n"]
    for node_id in (i for i in ids if out[i]["count"]):
        out[node_id]["recent"] = list(
            DeadLetter.objects.filter(node_id=node_id)
            .order_by("-id")
            .values("received", "run", "seq", "type", "reason")[:RECENT]
        )
    return out
