"""Applying an admitted message to the observed state: a snapshot or a delta becomes a plan
(webui/topology/diff.py), written in bulk (webui/topology/bulk.py), recorded in the change log
(webui/changelog/writer.py) and published as one numbered patch after commit.

webui/topology/ingest.py decides whether and what to apply (admission, sequencing); this module
does the writing, inside the caller's transaction. webui/topology/liveness.py shares its patch
numbering and host rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q

from webui.changelog import writer
from webui.live import trace
from webui.live.broadcast import broadcast_patch
from webui.topology import diff
from webui.topology.bulk import BATCH, chunks, fast_delete, fast_insert, fast_update
from webui.topology.graph import build_patch
from webui.topology.models import GraphVersion, Interface, Namespace, Node
from webui.topology.records import (
    INTERFACE_PLAIN,
    INTERFACE_VALUES,
    NAMESPACE_FIELDS,
    NAMESPACE_VALUES,
    interface_columns,
    interface_record,
    namespace_columns,
    namespace_record,
)

# the columns an update rewrites: every record field, and the ones derived from them
NAMESPACE_UPDATE = (*NAMESPACE_FIELDS[1:], "label", "changed")
INTERFACE_UPDATE = (*INTERFACE_PLAIN, "namespace", "master_key", "peer_key", "changed")


@dataclass(slots=True)
class Effects:
    """What one transaction produced, for the patch and the change log."""

    host_changes: list[writer.HostChange] = field(default_factory=list)
    plan: diff.Plan = field(default_factory=diff.Plan)
    affected_if_ids: set[int] = field(default_factory=set)  # relations changed: in the patch too

    @property
    def upserted_ns(self) -> set[str]:
        return {c.key for c in self.plan.of("namespace", "added", "changed")}

    @property
    def removed_ns(self) -> set[str]:
        return {c.key for c in self.plan.of("namespace", "removed")}

    @property
    def affected_if_keys(self) -> set[str]:  # upserted: in the patch
        return {c.key for c in self.plan.of("interface", "added", "changed", "moved")}

    @property
    def removed_if(self) -> set[str]:  # a moved interface is gone at its old key
        removed = {c.key for c in self.plan.of("interface", "removed")}
        return removed | {c.before["key"] for c in self.plan.of("interface", "moved") if c.before}

    def changed_graph(self) -> bool:
        return bool(self.host_changes or self.plan or self.affected_if_ids)


def stored(
    node: Node,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, diff.Record], dict[str, diff.Record]]:
    """The node's namespace and interface rows, and the protocol records they hold, by key."""
    ns_rows = list(Namespace.objects.filter(node=node).values(*NAMESPACE_VALUES))
    if_rows = list(Interface.objects.filter(node=node).values(*INTERFACE_VALUES))
    return (
        ns_rows,
        if_rows,
        {r["key"]: namespace_record(r) for r in ns_rows},
        {r["key"]: interface_record(r) for r in if_rows},
    )


def apply_snapshot(node: Node, data: dict[str, Any], now: datetime) -> Effects:
    ns_rows, if_rows, before_ns, before_if = stored(node)
    after_ns = {n["key"]: diff.normalize("namespace", n) for n in data["namespaces"]}
    after_if = {i["key"]: diff.normalize("interface", i) for i in data["interfaces"]}
    plan = diff.plan(before_ns, before_if, after_ns, after_if)
    return Effects(plan=plan, affected_if_ids=_write(node, plan, ns_rows, if_rows, now, full=True))


def apply_delta(node: Node, changes: list[dict[str, Any]], now: datetime) -> Effects:
    touched_ns = {c["key"] for c in changes if c["kind"] == "namespace"}
    touched_if = {c["key"] for c in changes if c["kind"] == "interface"}
    removed_ns = {c["key"] for c in changes if c["kind"] == "namespace" and c["op"] == "remove"}
    # the namespaces the delta names, and those its interfaces live in (existence and ids)
    wanted_ns = touched_ns | {
        c["data"]["namespace"] for c in changes if c["kind"] == "interface" and c["op"] == "upsert"
    }
    ns_rows = list(Namespace.objects.filter(node=node, key__in=sorted(wanted_ns)).values(*NAMESPACE_VALUES))
    interfaces = Interface.objects.filter(node=node)
    if removed_ns:
        interfaces = interfaces.filter(Q(key__in=sorted(touched_if)) | Q(namespace__key__in=sorted(removed_ns)))
    else:
        interfaces = interfaces.filter(key__in=sorted(touched_if))
    if_rows = list(interfaces.values(*INTERFACE_VALUES)) if touched_if or removed_ns else []
    before_ns = {r["key"]: namespace_record(r) for r in ns_rows if r["key"] in touched_ns}
    before_if = {r["key"]: interface_record(r) for r in if_rows}
    after_ns, after_if = diff.apply_changes(before_ns, before_if, changes)
    others = {r["key"] for r in ns_rows} - touched_ns
    plan = diff.plan(before_ns, before_if, after_ns, after_if, other_namespaces=others)
    return Effects(plan=plan, affected_if_ids=_write(node, plan, ns_rows, if_rows, now, full=False))


def _write(
    node: Node,
    plan: diff.Plan,
    ns_rows: list[dict[str, Any]],
    if_rows: list[dict[str, Any]],
    now: datetime,
    *,
    full: bool,
) -> set[int]:
    """Write a plan: namespaces first, then interfaces, then removals, then the relations.
    Returns the ids of the other interfaces whose relations changed (they are in the patch too)."""
    ns_id = {r["key"]: r["id"] for r in ns_rows}
    if_id = {r["key"]: r["id"] for r in if_rows}

    added_ns = [
        {"node_id": node.pk, "first_seen": now, "changed": now, **namespace_columns(c.after)}  # type: ignore[arg-type]
        for c in plan.of("namespace", "added")
    ]
    fast_insert(Namespace, added_ns)
    changed_ns = [
        Namespace(id=ns_id[c.key], changed=now, **namespace_columns(c.after))  # type: ignore[arg-type]
        for c in plan.of("namespace", "changed")
    ]
    fast_update(Namespace, changed_ns, NAMESPACE_UPDATE)
    if added_ns:
        if full or len(added_ns) > BATCH:
            ns_id.update(Namespace.objects.filter(node=node).values_list("key", "id"))
        else:
            keys = [n["key"] for n in added_ns]
            ns_id.update(Namespace.objects.filter(node=node, key__in=keys).values_list("key", "id"))

    # interfaces that go away: remember who pointed at them (their graph JSON loses an edge)
    removed_if_ids = [if_id[c.key] for c in plan.of("interface", "removed")]
    moved = plan.of("interface", "moved")
    pointing: set[int] = set()
    for chunk in chunks(removed_if_ids + [if_id[c.before["key"]] for c in moved if c.before]):
        pointing.update(
            Interface.objects.filter(node=node)
            .filter(Q(peer_id__in=chunk) | Q(master_id__in=chunk))
            .values_list("id", flat=True)
        )
    fast_delete(Interface, "id", removed_if_ids)  # relations to them: cleared by _link (FKs are deferred)
    pointing -= set(removed_if_ids)

    updated = [
        Interface(
            id=if_id[c.key if c.action == "changed" else c.before["key"]],  # type: ignore[index]
            namespace_id=ns_id[c.after["namespace"]],  # type: ignore[index]
            changed=now,
            **interface_columns(c.after),  # type: ignore[arg-type]
        )
        for c in plan.of("interface", "changed", "moved")
    ]
    fast_update(Interface, updated, INTERFACE_UPDATE)
    added_if = [
        {
            "node_id": node.pk,
            "namespace_id": ns_id[c.after["namespace"]],  # type: ignore[index]
            "first_seen": now,
            "changed": now,
            "peer_id": None,
            "master_id": None,
            **interface_columns(c.after),  # type: ignore[arg-type]
        }
        for c in plan.of("interface", "added")
    ]
    fast_insert(Interface, added_if)

    removed_ns = [c.key for c in plan.of("namespace", "removed")]
    fast_delete(Namespace, "key", removed_ns, node)  # their interfaces are gone or moved by now

    upserted_keys = {c.key for c in plan.of("interface", "added", "changed", "moved")}
    new_keys = {c.key for c in plan.of("interface", "added", "moved")}
    return _link(node, upserted_keys, new_keys, pointing, full=full) | pointing


def _link(node: Node, upserted: set[str], new_keys: set[str], pointing: set[int], *, full: bool) -> set[int]:
    """Set peer/master relations from the reported keys in the database itself (one UPDATE,
    no rows through Python); returns the ids whose relations changed.

    Candidates: every interface of the node after a snapshot; after a delta the upserted
    interfaces, those that name a new key as peer or master (the other end arrived later), and
    those that pointed at a moved or removed one.
    """
    table = connection.ops.quote_name(Interface._meta.db_table)

    def lookup(column: str) -> str:
        return f"(SELECT x.id FROM {table} x WHERE x.node_id = {table}.node_id AND x.key = {table}.{column})"

    peer, master = lookup("peer_key"), lookup("master_key")
    update = (
        f"UPDATE {table} SET peer_id = {peer}, master_id = {master} "
        f"WHERE node_id = %s AND ({{}}) AND (peer_id IS DISTINCT FROM {peer} OR master_id IS DISTINCT FROM {master}) "
        "RETURNING id"
    )
    if full:
        conditions: list[tuple[str, list[Any]]] = [("1 = 1", [])]
    else:
        conditions = [(f"id IN ({', '.join(['%s'] * len(c))})", c) for c in chunks(sorted(pointing))]
        for chunk in chunks(sorted(upserted)):
            conditions.append((f"key IN ({', '.join(['%s'] * len(chunk))})", chunk))
        for chunk in chunks(sorted(new_keys)):
            marks = ", ".join(["%s"] * len(chunk))
            conditions.append((f"peer_key IN ({marks}) OR master_key IN ({marks})", chunk + chunk))
    # as few statements as the backend's parameter limit allows (usually one)
    limit = (connection.features.max_query_params or 65535) - 1
    statements: list[tuple[list[str], list[Any]]] = []
    for condition, params in conditions:
        if not statements or len(statements[-1][1]) + len(params) > limit:
            statements.append(([], []))
        statements[-1][0].append(f"({condition})")
        statements[-1][1].extend(params)
    changed: set[int] = set()
    with connection.cursor() as cursor:
        for parts, params in statements:
            cursor.execute(update.format(" OR ".join(parts)), [node.pk, *params])
            changed.update(row[0] for row in cursor.fetchall())
    return changed


def log_and_broadcast(
    node: Node,
    effects: Effects,
    now: datetime,
    *,
    observed: float,
    run: str,
    seq: int,
    made: float,
    began: float,
    messages: int,
) -> int | None:
    """Log what a message changed and broadcast its patch after commit; returns the patch
    number, or None when the graph did not change. ``made``: when the newest message of the
    group was made (agent clock); ``began``: when applying the group began (trace marks)."""
    if not effects.changed_graph():
        return None
    graph_seq = next_graph_seq()
    common = writer.context(node.name, graph_seq, f"agent:{node.name}", observed=observed, run=run, seq=seq)
    writer.write_change_log(node.name, common, effects.host_changes, effects.plan)
    patch = _patch(node, graph_seq, effects)
    marks = {"agent": made, "group": began, "applied": time.time()}
    transaction.on_commit(lambda: _publish(patch, marks, messages))
    return graph_seq


def _publish(patch: dict[str, Any], own: dict[str, float], messages: int) -> None:
    """Broadcast a patch after commit; with NSMAP_TRACE on, log the moments it passed: the
    transaction's (tx, locked, written, commit) and its own group's (when its newest message was
    made, and when applying the group began and ended: a batch applies several groups in one
    transaction)."""
    marks = trace.marks(**own, commit=time.time())
    broadcast_patch(patch)
    if marks is not None:
        size = sum(len(v) for part in ("upsert", "remove") for v in patch[part].values())
        trace.emit("patch", patch["seq"], {**marks, "sent": time.time(), "messages": messages, "size": size})


def host_state(node: Node) -> dict[str, Any]:
    return {"name": node.name, "state": node.state, "run": node.run or None}


def next_graph_seq() -> int:
    """Take the next patch number: one UPDATE ... RETURNING that also locks the GraphVersion row
    until commit (taken last in a transaction, so held briefly). Numbers never skip: a rolled
    back transaction gives its number back."""
    table = connection.ops.quote_name(GraphVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq")
        row = cursor.fetchone()
    if row is None:  # the row of migration 0002 is gone (e.g. a flushed test database)
        GraphVersion.objects.get_or_create(pk=1)
        return next_graph_seq()
    return int(row[0])


def _patch(node: Node, graph_seq: int, effects: Effects) -> dict[str, Any]:
    namespaces = _rows(Namespace.objects.filter(node=node), NAMESPACE_VALUES, effects.upserted_ns, set())
    interfaces = _rows(
        Interface.objects.filter(node=node), INTERFACE_VALUES, effects.affected_if_keys, effects.affected_if_ids
    )
    hosts = [node_row(node)] if effects.host_changes else []
    return build_patch(
        graph_seq,
        hosts=hosts,
        namespaces=namespaces,
        interfaces=interfaces,
        removed_namespaces=[f"{node.name}/{k}" for k in effects.removed_ns],
        removed_interfaces=[f"{node.name}/{k}" for k in effects.removed_if],
    )


def _rows(rows: models.QuerySet[Any], fields: tuple[str, ...], keys: set[str], ids: set[int]) -> list[dict[str, Any]]:
    """The node's rows with one of ``keys`` or ``ids``, as graph JSON wants them: looked up by
    key and id in chunks, or, when there are very many (a first snapshot), by reading all of
    the node's rows once."""
    rows = rows.values(*fields, "node__name")
    if len(keys) + len(ids) > 4 * BATCH:
        return [r for r in rows if r["key"] in keys or r["id"] in ids]
    out: list[dict[str, Any]] = []
    for chunk in chunks(sorted(keys)):
        out.extend(rows.filter(key__in=chunk))
    for chunk in chunks(sorted(ids - {r["id"] for r in out})):
        out.extend(rows.filter(id__in=chunk))
    return out


def node_row(node: Node) -> dict[str, Any]:
    return {"name": node.name, "state": node.state, "last_heartbeat": node.last_heartbeat, "run": node.run}
