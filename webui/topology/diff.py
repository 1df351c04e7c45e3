"""Pure logic of the ingest: records in, a plan of real changes out. No Django, no I/O.

The ingest loads the rows a message touches as protocol records (dicts shaped like
``dataclasses.asdict`` of agent.protocol.Namespace / Interface), asks this module what changed,
and writes exactly that. A snapshot is the same computation over everything the node has, so a
snapshot that repeats the database produces an empty plan and no change records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal

from agent import protocol
from agent.protocol import (
    Address,
    Interface,
    Namespace,
    Process,
    interface_from_json,
    namespace_from_json,
)

Record = dict[str, Any]
Kind = Literal["namespace", "interface"]
Action = Literal["added", "changed", "removed", "moved"]

NO_MAC = {None, "", "00:00:00:00:00:00"}


class OutOfStep(Exception):
    """The message cannot be applied to the stored state (e.g. an interface of an unknown
    namespace): the agent and the server disagree, so the server asks for a snapshot."""


def _defaults(cls: type) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for f in fields(cls):
        if f.default is not MISSING:
            out.append((f.name, lambda v=f.default: v))
        elif f.default_factory is not MISSING:
            out.append((f.name, f.default_factory))
        else:
            out.append((f.name, None))
    return out


_FIELDS: dict[str, list[tuple[str, Any]]] = {"namespace": _defaults(Namespace), "interface": _defaults(Interface)}
_NESTED = {"pids": _defaults(Process), "addresses": _defaults(Address)}


def _fill(spec: list[tuple[str, Any]], data: dict[str, Any]) -> Record:
    out = {}
    for name, default in spec:
        if name in data:
            value = data[name]
            nested = _NESTED.get(name)
            if nested is not None:
                value = [_fill(nested, item) for item in value]
            out[name] = value
        elif default is None:
            raise KeyError(name)
        else:
            out[name] = default()
    return out


def normalize(kind: Kind, data: Record) -> Record:
    """The canonical record: every field present in the dataclass's order, defaults filled,
    nested objects as dicts (what ``asdict`` of the parsed record gives, without building it).
    Only for data that agent.protocol.validate_message accepted."""
    return _fill(_FIELDS[kind], data)


def check(kind: Kind, data: Record) -> Record:
    """Parse strictly with the protocol module, then normalize (for data not validated yet)."""
    parse = namespace_from_json if kind == "namespace" else interface_from_json
    return asdict(parse(data))


def _comparable(kind: Kind, record: Record) -> Record:
    """Address order is not a change (the kernel may list them differently between dumps)."""
    if kind != "interface":
        return record
    out = dict(record)
    out["addresses"] = sorted(
        (tuple(sorted(a.items())) for a in record.get("addresses") or []), key=lambda item: repr(item)
    )
    return out


def same(kind: Kind, a: Record | None, b: Record | None) -> bool:
    if a is None or b is None:
        return a is b
    return _comparable(kind, a) == _comparable(kind, b)


@dataclass(slots=True)
class Change:
    kind: Kind
    action: Action
    key: str  # the key after the change (a removed object: its last key)
    before: Record | None
    after: Record | None


@dataclass(slots=True)
class Plan:
    """What to write. ``changes`` is in change-log order: namespaces added/changed, interfaces
    added/changed/moved, interfaces removed, namespaces removed."""

    changes: list[Change] = field(default_factory=list)

    def of(self, kind: Kind, *actions: Action) -> list[Change]:
        return [c for c in self.changes if c.kind == kind and c.action in actions]

    def __bool__(self) -> bool:
        return bool(self.changes)


def apply_changes(
    namespaces: dict[str, Record], interfaces: dict[str, Record], changes: list[Record]
) -> tuple[dict[str, Record], dict[str, Record]]:
    """The state after a delta's ``changes`` (protocol format), applied in order to copies.

    ``interfaces`` must hold every interface of a namespace the delta removes: removing a
    namespace removes its interfaces too (the kernel does), even when the delta does not list them.
    """
    ns = dict(namespaces)
    ifs = dict(interfaces)
    for change in changes:
        kind, key = change["kind"], change["key"]
        target = ns if kind == "namespace" else ifs
        if change["op"] == "upsert":
            target[key] = normalize(kind, change["data"])
        else:
            target.pop(key, None)
            if kind == "namespace":
                for if_key in [k for k, r in ifs.items() if r["namespace"] == key]:
                    del ifs[if_key]
    return ns, ifs


def _moves(removed: dict[str, Record], added: dict[str, Record]) -> list[tuple[str, str]]:
    """(old key, new key) of interfaces that changed namespace: the same MAC and kind vanished
    from one namespace and appeared in another in one message. Only unique matches count; a
    MAC shared by several candidates is left as a removal and an addition (never guessed)."""
    gone: dict[tuple[str, str], list[str]] = defaultdict(list)
    new: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, record in removed.items():
        if record.get("mac") not in NO_MAC:
            gone[(record["mac"], record["kind"])].append(key)
    for key, record in added.items():
        if record.get("mac") not in NO_MAC:
            new[(record["mac"], record["kind"])].append(key)
    pairs = []
    for ident, old_keys in gone.items():
        new_keys = new.get(ident, [])
        if len(old_keys) == 1 and len(new_keys) == 1:
            old_key, new_key = old_keys[0], new_keys[0]
            if removed[old_key]["namespace"] != added[new_key]["namespace"]:
                pairs.append((old_key, new_key))
    return sorted(pairs)


def plan(
    before_ns: dict[str, Record],
    before_if: dict[str, Record],
    after_ns: dict[str, Record],
    after_if: dict[str, Record],
    *,
    other_namespaces: Collection[str] = frozenset(),
) -> Plan:
    """The changes that turn ``before`` into ``after`` (both limited to the same scope).

    ``other_namespaces``: namespace keys that exist outside the scope (a delta touches only a
    few); an interface whose namespace is neither there nor in ``after_ns`` raises OutOfStep.
    """
    for key, record in after_if.items():
        if record["namespace"] not in after_ns and record["namespace"] not in other_namespaces:
            raise OutOfStep(f"interface {key} is in namespace {record['namespace']}, which is not known")
    result = Plan()
    for key, record in after_ns.items():
        old = before_ns.get(key)
        if old is None:
            result.changes.append(Change("namespace", "added", key, None, record))
        elif not same("namespace", old, record):
            result.changes.append(Change("namespace", "changed", key, old, record))
    removed_if = {k: r for k, r in before_if.items() if k not in after_if}
    added_if = {k: r for k, r in after_if.items() if k not in before_if}
    moves = _moves(removed_if, added_if)
    moved_new = {new: old for old, new in moves}
    moved_old = set(moved_new.values())
    for key, record in after_if.items():
        old = before_if.get(key)
        if key in moved_new:
            result.changes.append(Change("interface", "moved", key, before_if[moved_new[key]], record))
        elif old is None:
            result.changes.append(Change("interface", "added", key, None, record))
        elif not same("interface", old, record):
            result.changes.append(Change("interface", "changed", key, old, record))
    for key, record in removed_if.items():
        if key not in moved_old:
            result.changes.append(Change("interface", "removed", key, record, None))
    for key, record in before_ns.items():
        if key not in after_ns:
            result.changes.append(Change("namespace", "removed", key, record, None))
    return result


def namespace_label(record: Record) -> str:
    """What a person calls a namespace (the protocol's rule)."""
    return namespace_from_json(record).label


def interface_label(record: Record) -> str:
    return protocol.interface_label(record["name"], record.get("peer_ifindex"))
