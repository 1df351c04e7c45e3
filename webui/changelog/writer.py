"""The change log's rows, written inside the transaction that made the changes (the ingest, a node
going stale, a node forgotten), so the log and the observed state never disagree.

One row per host change and per change of a plan (webui/topology/diff.py), numbered by
``position`` within the write; every row of one write shares the columns of ``context``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from webui.changelog.models import ChangeRecord
from webui.changelog.replay import changed_groups
from webui.commands.service import Touched, attribute_changes
from webui.topology.bulk import fast_insert
from webui.topology.diff import Change, Plan
from webui.topology.models import NodeState
from webui.topology.records import display_name

# a host's state before and after (None: the host is gone)
HostChange = tuple[dict[str, Any], dict[str, Any] | None]


def context(
    node: str,
    graph_seq: int,
    actor: str,
    *,
    observed: float | None = None,
    run: str | None = None,
    seq: int | None = None,
) -> dict[str, Any]:
    """The columns every change record of one write shares (no message: run and seq NULL).

    Call it after taking ``graph_seq``: the record's time is read then, under the lock that
    numbers patches, so times rise with patch numbers across workers and nodes, and the moment T
    of time travel (webui/changelog/timetravel.py) is one point of the log."""
    return {
        "time": timezone.now(),
        "observed": observed,
        "node": node,
        "actor": actor,
        "run": run,
        "seq": seq,
        "graph_seq": graph_seq,
    }


def _touched(node: str, change: Change) -> Touched:
    """What attribution needs of one change (webui.commands.service.attribute_changes)."""
    object_id = f"{node}/{change.key}"
    record = change.after or change.before or {}
    if change.kind == "namespace":
        names = {n for r in (change.before, change.after) if r for n in r.get("names") or ()}
        return Touched(object_id, netns_names=tuple(sorted(names)), action=change.action, kind="namespace")
    related = {f"{node}/{r['peer']}" for r in (change.before, change.after) if r and r.get("peer")}
    if change.action == "moved" and change.before:
        related.add(f"{node}/{change.before['key']}")
    if change.action == "removed" and record.get("namespace"):
        related.add(f"{node}/{record['namespace']}")  # gone with its namespace: a netns.delete names that
    namespace = f"{node}/{record['namespace']}" if record.get("namespace") else None
    return Touched(
        object_id,
        record.get("alias"),
        record.get("name"),
        tuple(sorted(related)),
        action=change.action,
        namespace=namespace,
    )


def host_action(before: dict[str, Any], after: dict[str, Any] | None) -> str:
    if after is None:
        return "removed"
    return "added" if before["state"] == NodeState.OFFLINE and not before["run"] else "changed"


def write_change_log(
    node: str, common: dict[str, Any], host_changes: list[HostChange], plan: Plan | None = None
) -> None:
    """Record the host changes, then the plan's changes, of ``node`` (its name)."""
    rows = [
        {
            "object_kind": "host",
            "object_key": node,
            "object_id": node,
            "name": node,
            "action": action,
            "before": before,
            "after": after,
            "fields": changed_groups(action, before, after),
            "request_id": None,
            "position": 0,
            **common,
        }
        for before, after in host_changes
        for action in [host_action(before, after)]
    ]
    changes = plan.changes if plan is not None else []
    by_command = attribute_changes(node, (_touched(node, c) for c in changes)) if changes else {}
    for position, change in enumerate(changes, start=len(rows)):
        record = change.after if change.after is not None else change.before
        assert record is not None
        object_id = f"{node}/{change.key}"
        actor, command = by_command.get(object_id, (common["actor"], None))
        rows.append(
            {
                "object_kind": change.kind,
                "object_key": change.key,
                "object_id": object_id,
                "name": display_name(change.kind, record)[:255],
                "action": change.action,
                "before": change.before,
                "after": change.after,
                "fields": changed_groups(change.action, change.before, change.after),
                "position": position,
                **common,
                "actor": actor,
                "request_id": command,
            }
        )
    fast_insert(ChangeRecord, rows)
