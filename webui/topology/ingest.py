"""The ingest service: one agent message in, the observed state and the change log updated in one
transaction, a numbered patch broadcast after commit.

Rules (docs/CONTRACTS.md, issue 3):
- A message is checked before anything is written: JSON, every field (agent.protocol), a known
  node, its HMAC (unless ``trusted``: the embedded in-process agent), its time within
  NSMAP_MAX_CLOCK_SKEW, not from an earlier run, not replayed (seq <= last seq of the same run).
  A rejection is logged on ``nsmap.ingest`` at WARNING as ``ingest rejected node=X reason=...``
  and writes nothing. A message that fails with a database error is set aside as a dead letter
  (webui/topology/deadletters.py) and the node asks for a snapshot; the rest of its batch stands.
- A snapshot is applied as a diff against the stored rows, so the change log gets only real
  changes; a delta is applied to the rows it touches. Both in one transaction.
- A gap (seq != last + 1) or a new run that does not start with a snapshot is not applied: the
  server asks that agent for a snapshot (after commit) and ignores deltas until it arrives.
  With ``final=False`` (a Celery delivery that can be retried) a gap is reported as
  ``status="gap"`` without writing, because the missing message may just be late in another worker.
- Every accepted message counts as a heartbeat. Patches are numbered by GraphVersion, locked and
  incremented inside the transaction, so numbers have no gaps across workers.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from agent import signing
from agent.protocol import ProtocolError, validate_message
from webui.changelog.models import ChangeRecord
from webui.live import trace
from webui.live.broadcast import broadcast_patch
from webui.topology import agents, deadletters, diff
from webui.topology.graph import build_patch
from webui.topology.models import GraphVersion, Interface, Namespace, Node, NodeState
from webui.topology.records import (
    INTERFACE_PLAIN,
    INTERFACE_VALUES,
    NAMESPACE_FIELDS,
    NAMESPACE_VALUES,
    display_name,
    interface_columns,
    interface_record,
    namespace_columns,
    namespace_record,
)

log = logging.getLogger("nsmap.ingest")

Status = Literal["applied", "unchanged", "heartbeat", "waiting", "resync", "gap", "rejected"]
RESYNC_INTERVAL = timedelta(seconds=5)  # ask again for a snapshot at most this often
RETIRED_RUNS_KEPT = 20
BATCH = 500

# the columns an update rewrites: every record field, and the ones derived from them
NAMESPACE_UPDATE = (*NAMESPACE_FIELDS[1:], "label", "changed")
INTERFACE_UPDATE = (*INTERFACE_PLAIN, "namespace", "master_key", "peer_key", "changed")


NODE_FIELDS = (
    "run",
    "last_seq",
    "synced",
    "retired_runs",
    "resync_requested",
    "last_heartbeat",
    "last_message_time",
    "state",
    "complete",
    "errors",
    "changed",
)


@dataclass(slots=True)
class Result:
    """What happened to a message (the Celery task logs it; tests assert on it)."""

    status: Status
    reason: str = ""
    node: str | None = None
    graph_seq: int | None = None
    changes: int = 0
    resync_requested: bool = False


class Rejected(Exception):
    def __init__(self, reason: str, node: str | None = None) -> None:
        super().__init__(reason)
        self.node = node


@dataclass(slots=True)
class _Effects:
    """What one transaction produced, for the patch and the change log."""

    host_changes: list[tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
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


def ingest(body: str | bytes, signature: str | None, *, trusted: bool = False, final: bool = True) -> Result:
    """Apply one agent message; never raises for a bad message (it is rejected and logged)."""
    results, _leftover = ingest_batch([(body, signature)], trusted=trusted, final=final)
    return results[0]


def ingest_batch(
    items: list[tuple[str | bytes, str | None]], *, trusted: bool = False, final: bool = True
) -> tuple[list[Result], list[int]]:
    """Apply several messages in one transaction per node, in sequence order.

    Consecutive in-step deltas and heartbeats of one run are merged into one delta: one plan,
    one patch, change records numbered with the last message's seq. This is how a worker
    catches up with a flood (webui.topology.tasks drains a node's inbox in batches). Returns a
    result per item and the indexes of items not applied because a gap may still fill
    (``final=False``; their result says "gap"); the caller offers those again later.
    """
    results: list[Result | None] = [None] * len(items)
    by_node: dict[str, list[_Message]] = {}
    for index, (body, signature) in enumerate(items):
        try:
            raw, data = _parse(body)
        except Rejected as exc:
            results[index] = _reject(str(exc), exc.node)
            continue
        by_node.setdefault(data["node"], []).append(_Message(index, raw, data, signature))
    leftover: list[int] = []
    for name, messages in by_node.items():
        leftover += _ingest_node(name, messages, results, trusted=trusted, final=final)
    return [r if r is not None else Result("rejected", "not processed") for r in results], leftover


@dataclass(slots=True)
class _Message:
    index: int
    raw: bytes
    data: dict[str, Any]
    signature: str | None

    @property
    def run(self) -> str:
        return self.data["run"]

    @property
    def seq(self) -> int:
        return self.data["seq"]

    @property
    def type(self) -> str:
        return self.data["type"]


def _reject(reason: str, node: str | None) -> Result:
    log.warning("ingest rejected node=%s reason=%s", _printable(node), _printable(reason, 300))
    return Result("rejected", reason, node)


def _ingest_node(
    name: str, messages: list[_Message], results: list[Result | None], *, trusted: bool, final: bool
) -> list[int]:
    def reject_all(reason: str) -> list[int]:
        for m in messages:
            results[m.index] = _reject(reason, name)
        return []

    if trusted and name != settings.NODE_NAME:
        return reject_all(f"other node: the local agent speaks for {settings.NODE_NAME!r}, not {name!r}")
    now = timezone.now()
    leftover: list[int] = []
    trace.mark("tx")
    with transaction.atomic():
        node = _lock_node(name, create=trusted)
        trace.mark("locked")
        if node is None:
            return reject_all("unknown node (register it with `manage.py nsmap_node add NAME`)")
        accepted: list[_Message] = []
        for m in messages:
            try:
                if not trusted:
                    _authenticate(node, m)
                accepted.append(m)
            except Rejected as exc:
                results[m.index] = _reject(str(exc), name)
        runs: dict[str, int] = {}
        for m in accepted:
            runs.setdefault(m.run, len(runs))
        accepted.sort(key=lambda m: (runs[m.run], m.seq))
        i = 0
        while i < len(accepted):
            m = accepted[i]
            refusal = _refuse_replay(node, m, now)
            if refusal:
                results[m.index] = _reject(refusal, name)
                i += 1
                continue
            if m.run == node.run and m.seq <= node.last_seq:
                results[m.index] = _reject(f"stale seq {m.seq} <= {node.last_seq} (replay)", name)
                i += 1
                continue
            follows = m.run == node.run and m.seq == node.last_seq + 1
            in_step = follows and node.synced
            if m.type != "snapshot" and not final and not follows:
                reason = f"seq {m.seq} after {node.last_seq} of run {node.run or '-'}"
                for rest in accepted[i:]:
                    results[rest.index] = Result("gap", reason, name)
                    leftover.append(rest.index)
                break
            j = i + 1
            if in_step and m.type != "snapshot":
                while (
                    j < len(accepted)
                    and accepted[j].run == m.run
                    and accepted[j].seq == accepted[j - 1].seq + 1
                    and accepted[j].type != "snapshot"
                ):
                    j += 1
            group = accepted[i:j]
            result = _apply_or_set_aside(node, group, now, in_step=in_step)
            for g in group:
                results[g.index] = result
            i = j
        trace.mark("written")
    return leftover


def _refuse_replay(node: Node, m: _Message, now: datetime) -> str:
    """Why a message can only be a replay (else ""): its time is too far from the server's clock
    (NSMAP_MAX_CLOCK_SKEW), or it belongs to a run other than the current one and was made before
    the current run's latest message (an agent's runs follow each other, so any earlier run,
    however many restarts ago, is refused), or its run was retired."""
    sent = float(m.data["time"])
    skew, allowed = sent - now.timestamp(), settings.NSMAP_MAX_CLOCK_SKEW
    if abs(skew) > allowed:
        return f"message time is {skew:+.0f} s from the server's clock (NSMAP_MAX_CLOCK_SKEW={allowed:g})"
    if m.run != node.run and (m.run in node.retired_runs or sent < (node.last_message_time or 0.0)):
        return f"message from an earlier run {m.run} (seq {m.seq})"
    return ""


def _apply_or_set_aside(node: Node, group: list[_Message], now: datetime, *, in_step: bool) -> Result:
    """_apply_group in a savepoint: a rejection or a database error undoes only this group (its
    writes and after-commit callbacks). A group that fails with a database error is set aside as a
    dead letter with the reason, and the node moves past it and asks for a snapshot, so the
    messages after it flow. A lost connection (OperationalError, InterfaceError) is raised: the
    caller retries the whole batch."""
    try:
        with transaction.atomic():
            return _apply_group(node, group, now, in_step=in_step)
    except Rejected as exc:
        node.refresh_from_db()
        return _reject(str(exc), node.name)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        reason = f"not applied: {type(exc).__name__}: {exc}"
        log.exception("ingest set aside node=%s seq=%d..%d", node.name, group[0].seq, group[-1].seq)
    node.refresh_from_db()
    deadletters.set_aside(node, now, [(m.raw, m.data) for m in group], reason)
    last = group[-1]
    node.retired_runs = [r for r in (*node.retired_runs, node.run) if r and r != last.run][-RETIRED_RUNS_KEPT:]
    node.run, node.last_seq, node.synced = last.run, last.seq, False
    node.last_heartbeat, node.last_message_time = now, float(last.data["time"])
    if node.resync_requested is None or now - node.resync_requested >= RESYNC_INTERVAL:
        node.resync_requested = now
        transaction.on_commit(lambda: agents.request_snapshot(node.name))
    node.save(update_fields=NODE_FIELDS)
    return Result("rejected", reason, node.name)


def _printable(text: str | None, limit: int = 63) -> str:
    """A log-safe rendering of text taken from an unverified message (no newlines, bounded)."""
    if text is None:
        return "?"
    if re.fullmatch(r"[A-Za-z0-9._-]{1,63}", text):
        return text
    return repr(text[:limit]) if len(text) > limit or not text.isprintable() else text


def _parse(body: str | bytes) -> tuple[bytes, dict[str, Any]]:
    if isinstance(body, bytes):
        raw = body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected("malformed: body is not UTF-8") from None
    elif isinstance(body, str):
        text = body
        raw = body.encode("utf-8", "surrogatepass")
    else:
        raise Rejected(f"malformed: body is {type(body).__name__}, not JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Rejected(f"malformed JSON: {exc}") from None
    node = data.get("node") if isinstance(data, dict) and isinstance(data.get("node"), str) else None
    try:
        validate_message(data)
    except (ProtocolError, TypeError, ValueError, AttributeError) as exc:
        raise Rejected(f"protocol error: {exc}", node) from None
    return raw, data


def _lock_node(name: str, *, create: bool) -> Node | None:
    node = Node.objects.select_for_update().filter(name=name).first()
    if node is None and create:
        Node.objects.get_or_create(name=name)
        node = Node.objects.select_for_update().get(name=name)
    return node


def _authenticate(node: Node, m: _Message) -> None:
    if not node.key:
        raise Rejected("node has no key")
    if not m.signature:
        raise Rejected("unsigned")
    if not signing.verify(m.raw, node.key, m.signature):
        raise Rejected("bad signature (not signed with this node's key)")


def _apply_group(node: Node, group: list[_Message], now: datetime, *, in_step: bool) -> Result:
    """Apply one message, or several consecutive in-step deltas/heartbeats merged into one.
    ``in_step``: the group's first message is the next of the node's run, and the node is synced."""
    began = time.time()
    first, last = group[0], group[-1]
    name, run = node.name, first.run
    if len(group) == 1:
        data, kind = first.data, first.type
    else:
        changes = [c for m in group if m.type == "delta" for c in m.data["changes"]]
        kind = "delta" if changes else "heartbeat"
        data = {**last.data, "type": kind, "changes": changes}
    effects = _Effects()
    host_before = _host_state(node)
    if run != node.run:
        if node.run:
            node.retired_runs = [*node.retired_runs, node.run][-RETIRED_RUNS_KEPT:]
        node.run = run
        node.synced = False
    node.last_seq = last.seq
    node.last_heartbeat = now
    node.last_message_time = float(last.data["time"])
    node.state = NodeState.ONLINE

    status: Status
    want_snapshot = False
    if kind == "snapshot":
        try:
            effects = _apply_snapshot(node, data, now)
        except diff.OutOfStep as exc:
            raise Rejected(f"protocol error: inconsistent snapshot: {exc}") from None
        node.synced = True
        node.complete = bool(data.get("complete", True))
        node.errors = [str(e) for e in data.get("errors", [])]
        status = "applied" if effects.plan else "unchanged"
    elif in_step and kind == "delta":
        try:
            effects = _apply_delta(node, data["changes"], now)  # out of step: before writing
            status = "applied" if effects.plan else "unchanged"
        except diff.OutOfStep as exc:
            log.warning("node %s out of step at seq %d: %s; asking for a snapshot", name, last.seq, exc)
            effects = _Effects()
            node.synced = False
            want_snapshot, status = True, "resync"
    elif in_step:
        status = "heartbeat"
    else:  # a gap, a new run that did not start with a snapshot, or still waiting for one
        node.synced = False
        want_snapshot, status = True, "resync"

    asked = False
    if want_snapshot and (node.resync_requested is None or now - node.resync_requested >= RESYNC_INTERVAL):
        node.resync_requested = now
        asked = True
        transaction.on_commit(lambda: agents.request_snapshot(name))
    elif want_snapshot:
        status = "waiting"

    host_after = _host_state(node)
    if host_after != host_before:
        effects.host_changes.append((host_before, host_after))
    node.save(update_fields=NODE_FIELDS)

    graph_seq = None
    if effects.changed_graph():
        graph_seq = _next_graph_seq()
        context = _context(
            name, now, graph_seq, f"agent:{name}", observed=float(data["time"]), run=data["run"], seq=data["seq"]
        )
        _write_change_log(node, context, effects)
        patch = _patch(node, graph_seq, effects)
        marks = {"agent": max(float(m.data["time"]) for m in group), "group": began, "applied": time.time()}
        transaction.on_commit(lambda: _publish(patch, marks, len(group)))
    if status == "resync":
        log.info("node %s: %s seq %d of run %s not applied (asked for a snapshot)", name, kind, last.seq, run)
    return Result(status, "", name, graph_seq, len(effects.plan.changes), asked)


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


def _host_state(node: Node) -> dict[str, Any]:
    return {"name": node.name, "state": node.state, "run": node.run or None}


def _next_graph_seq() -> int:
    """Take the next patch number: one UPDATE ... RETURNING that also locks the GraphVersion row
    until commit (taken last in a transaction, so held briefly). Numbers never skip: a rolled
    back transaction gives its number back."""
    table = connection.ops.quote_name(GraphVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq")
        row = cursor.fetchone()
    if row is None:  # the row of migration 0002 is gone (e.g. a flushed test database)
        GraphVersion.objects.get_or_create(pk=1)
        return _next_graph_seq()
    return int(row[0])


# -- applying --------------------------------------------------------------------------------------


def _apply_snapshot(node: Node, data: dict[str, Any], now: datetime) -> _Effects:
    ns_rows = list(Namespace.objects.filter(node=node).values(*NAMESPACE_VALUES))
    if_rows = list(Interface.objects.filter(node=node).values(*INTERFACE_VALUES))
    before_ns = {r["key"]: namespace_record(r) for r in ns_rows}
    before_if = {r["key"]: interface_record(r) for r in if_rows}
    after_ns = {n["key"]: diff.normalize("namespace", n) for n in data["namespaces"]}
    after_if = {i["key"]: diff.normalize("interface", i) for i in data["interfaces"]}
    plan = diff.plan(before_ns, before_if, after_ns, after_if)
    return _Effects(plan=plan, affected_if_ids=_write(node, plan, ns_rows, if_rows, now, full=True))


def _apply_delta(node: Node, changes: list[dict[str, Any]], now: datetime) -> _Effects:
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
    return _Effects(plan=plan, affected_if_ids=_write(node, plan, ns_rows, if_rows, now, full=False))


def _preparers(meta_fields: list[Any]) -> list[Any]:
    """Per field, how to turn a Python value into a query parameter. Only JSON and date-time
    fields need Django's preparation (the rest pass as they are, which is what most of the
    time of bulk_create goes into); the date-times of one ingest are all the same ``now``."""
    out: list[Any] = []
    for f in meta_fields:
        if isinstance(f, models.JSONField | models.DateTimeField | models.DateField):
            cache: dict[Any, Any] = {}

            def prepare(value: Any, f: Any = f, cache: dict[Any, Any] = cache) -> Any:
                if isinstance(value, datetime):
                    if value not in cache:
                        cache[value] = f.get_db_prep_save(value, connection)
                    return cache[value]
                return f.get_db_prep_save(value, connection)

            out.append(prepare)
        else:
            out.append(None)
    return out


def _prepare_rows(meta_fields: list[Any], rows: list[list[Any]]) -> list[list[Any]]:
    preparers = _preparers(meta_fields)
    active = [(i, p) for i, p in enumerate(preparers) if p is not None]
    for row in rows:
        for i, prepare in active:
            row[i] = prepare(row[i])
    return rows


def fast_update(model: type[models.Model], objs: list[models.Model], fields: tuple[str, ...] | list[str]) -> None:
    """``bulk_update`` without its CASE WHEN expressions: one prepared UPDATE ... WHERE id = %s
    run with executemany. Django's bulk_update spends seconds resolving expressions for a few
    thousand rows; this keeps a 4,000-interface snapshot well under the 2 s target."""
    if not objs:
        return
    meta_fields = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(model._meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in meta_fields),
        quote(model._meta.pk.column),
    )
    rows = _prepare_rows(meta_fields, [[getattr(obj, f.attname) for f in meta_fields] for obj in objs])
    for row, obj in zip(rows, objs, strict=True):
        row.append(obj.pk)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def fast_insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """``bulk_create`` from plain dicts (field attname -> value): multi-row INSERTs as large as
    the backend's parameter limit allows, no model instances, SQL compiled once per size.
    Rows get no ids back."""
    if not rows:
        return
    names = list(rows[0])
    meta_fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    head = "INSERT INTO {} ({}) VALUES ".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in meta_fields)
    )
    one = "(" + ", ".join(["%s"] * len(meta_fields)) + ")"
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(1000, limit // len(meta_fields)))
    prepared = _prepare_rows(meta_fields, [[row[n] for n in names] for row in rows])
    if connection.vendor == "postgresql" and len(prepared) > 50:
        # COPY: PostgreSQL's bulk path, several times faster than multi-row INSERTs here
        columns = ", ".join(quote(f.column) for f in meta_fields)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in prepared:
                copy.write_row(row)
        return
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), per_statement):
            batch = prepared[start : start + per_statement]
            cursor.execute(head + ", ".join([one] * len(batch)), [value for row in batch for value in row])


def _delete(model: type[models.Model], column: str, values: list[Any], node: Node | None = None) -> None:
    """Plain DELETEs by ``column`` (of ``node``'s rows): what the plan removes has no
    dependants left, so Django's collector (a SELECT and UPDATE per relation and chunk) only
    costs time; a row still referenced fails the deferred foreign key at commit."""
    table = connection.ops.quote_name(model._meta.db_table)
    where = "node_id = %s AND " if node is not None else ""
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            params = [node.pk, *chunk] if node is not None else chunk
            cursor.execute(f"DELETE FROM {table} WHERE {where}{connection.ops.quote_name(column)} IN ({marks})", params)


def _chunks(items: list[Any], size: int = BATCH) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


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
    for chunk in _chunks(removed_if_ids + [if_id[c.before["key"]] for c in moved if c.before]):
        pointing.update(
            Interface.objects.filter(node=node)
            .filter(Q(peer_id__in=chunk) | Q(master_id__in=chunk))
            .values_list("id", flat=True)
        )
    _delete(Interface, "id", removed_if_ids)  # relations to them: cleared by _link (FKs are deferred)
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
    _delete(Namespace, "key", removed_ns, node)  # their interfaces are gone or moved by now

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
        conditions = [(f"id IN ({', '.join(['%s'] * len(c))})", c) for c in _chunks(sorted(pointing))]
        for chunk in _chunks(sorted(upserted)):
            conditions.append((f"key IN ({', '.join(['%s'] * len(chunk))})", chunk))
        for chunk in _chunks(sorted(new_keys)):
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


# -- change log and patch --------------------------------------------------------------------------


def _context(
    node: str,
    now: datetime,
    graph_seq: int,
    actor: str,
    *,
    observed: float | None = None,
    run: str | None = None,
    seq: int | None = None,
) -> dict[str, Any]:
    """The columns every change record of one write shares (no message: run and seq NULL)."""
    return {
        "time": now,
        "observed": observed,
        "node": node,
        "actor": actor,
        "run": run,
        "seq": seq,
        "graph_seq": graph_seq,
    }


def _host_action(before: dict[str, Any], after: dict[str, Any] | None) -> str:
    if after is None:
        return "removed"
    return "added" if before["state"] == NodeState.OFFLINE and not before["run"] else "changed"


def _write_change_log(node: Node, common: dict[str, Any], effects: _Effects) -> None:
    rows = [
        {
            "object_kind": "host",
            "object_key": node.name,
            "object_id": node.name,
            "name": node.name,
            "action": _host_action(before, after),
            "before": before,
            "after": after,
            "request_id": None,
            "position": 0,
            **common,
        }
        for before, after in effects.host_changes
    ]
    for position, change in enumerate(effects.plan.changes, start=len(rows)):
        record = change.after if change.after is not None else change.before
        assert record is not None
        rows.append(
            {
                "object_kind": change.kind,
                "object_key": change.key,
                "object_id": f"{node.name}/{change.key}",
                "name": display_name(change.kind, record)[:255],
                "action": change.action,
                "before": change.before,
                "after": change.after,
                "request_id": None,
                "position": position,
                **common,
            }
        )
    fast_insert(ChangeRecord, rows)


def _patch(node: Node, graph_seq: int, effects: _Effects) -> dict[str, Any]:
    namespaces = _rows(Namespace.objects.filter(node=node), NAMESPACE_VALUES, effects.upserted_ns, set())
    interfaces = _rows(
        Interface.objects.filter(node=node), INTERFACE_VALUES, effects.affected_if_keys, effects.affected_if_ids
    )
    hosts = [_node_row(node)] if effects.host_changes else []
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
    for chunk in _chunks(sorted(keys)):
        out.extend(rows.filter(key__in=chunk))
    for chunk in _chunks(sorted(ids - {r["id"] for r in out})):
        out.extend(rows.filter(id__in=chunk))
    return out


def _node_row(node: Node) -> dict[str, Any]:
    return {"name": node.name, "state": node.state, "last_heartbeat": node.last_heartbeat, "run": node.run}


def forget_node(name: str, actor: str = "cli") -> bool:
    """Delete a node and everything observed on it, logging each object as removed (so the
    history still knows when they went) and broadcasting the removals. False: no such node."""
    now = timezone.now()
    with transaction.atomic():
        node = Node.objects.select_for_update().filter(name=name).first()
        if node is None:
            return False
        ns_rows = list(Namespace.objects.filter(node=node).values(*NAMESPACE_VALUES))
        if_rows = list(Interface.objects.filter(node=node).values(*INTERFACE_VALUES))
        plan = diff.plan(
            {r["key"]: namespace_record(r) for r in ns_rows}, {r["key"]: interface_record(r) for r in if_rows}, {}, {}
        )
        effects = _Effects(host_changes=[(_host_state(node), None)], plan=plan)
        graph_seq = _next_graph_seq()
        _write_change_log(node, _context(name, now, graph_seq, actor), effects)
        node.delete()
        patch = build_patch(
            graph_seq,
            removed_namespaces=[f"{name}/{k}" for k in effects.removed_ns],
            removed_interfaces=[f"{name}/{k}" for k in effects.removed_if],
            removed_hosts=[name],
        )
        transaction.on_commit(lambda: broadcast_patch(patch))
    log.info("node %s forgotten by %s (%d namespaces, %d interfaces)", name, actor, len(ns_rows), len(if_rows))
    return True


# -- liveness --------------------------------------------------------------------------------------


def mark_stale(now: datetime | None = None) -> list[str]:
    """Nodes without a message for NSMAP_STALE_AFTER seconds become "stale" (patch + change log).

    Cheap when nothing is due (one indexed query), so it runs on API/WebSocket connects as well as
    periodically (Celery beat in distributed mode, a thread of nsmap_serve in embedded mode).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NSMAP_STALE_AFTER)
    due = Node.objects.filter(state=NodeState.ONLINE, last_heartbeat__lt=cutoff)
    if not due.exists():
        return []
    names: list[str] = []
    with transaction.atomic():
        nodes = list(due.select_for_update().order_by("id"))
        if not nodes:
            return []
        graph_seq = _next_graph_seq()
        for node in nodes:
            before = _host_state(node)
            node.state = NodeState.STALE
            node.save(update_fields=["state", "changed"])
            names.append(node.name)
            effects = _Effects(host_changes=[(before, _host_state(node))])
            _write_change_log(node, _context(node.name, now, graph_seq, "server"), effects)
        patch = build_patch(graph_seq, hosts=[_node_row(n) for n in nodes])
        transaction.on_commit(lambda: broadcast_patch(patch))
    log.info("nodes stale (no message for %ss): %s", settings.NSMAP_STALE_AFTER, ", ".join(names))
    return names
