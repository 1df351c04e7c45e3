"""Rebuild observed state from the change log (pure): the basis of time travel.

``Timeline`` applies records in publication order (graph_seq, position) and keeps, per node, the
host record and the namespaces and interfaces as protocol records, each with the time it was
first seen and last changed. It starts empty or from a checkpoint (``Timeline.load`` of what
``dump`` wrote), so a past moment costs one checkpoint plus the records after it
(webui/changelog/timetravel.py). The whole log replayed from nothing equals the stored rows
(tests/webui/test_changelog_replay.py checks it).

``changes(before, after)`` is the pure diff of two moments: what was added, removed, and which
fields of the rest changed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webui.topology.diff import namespace_label
from webui.topology.graph import host_json, interface_json, iso, namespace_json

Record = dict[str, Any]
# the fields of a protocol record that a person compares; the rest (key, ifindex) name the object
FIELD_GROUPS = {
    "state": ("operstate", "up", "state"),
    "mtu": ("mtu",),
    "address": ("addresses",),
    "master": ("master",),
    "peer": ("peer", "peer_ifindex", "peer_status", "peer_note"),
    "name": ("name", "names", "alias", "altnames"),
}


def changed_groups(action: str, before: Record | None, after: Record | None) -> str:
    """The field groups a "changed" record touched, as stored in ChangeRecord.fields
    (",mtu,state,"), so that the history can filter by field with a plain LIKE on both databases."""
    if action != "changed" or not before or not after:
        return ""
    groups = [g for g, names in FIELD_GROUPS.items() if any(before.get(n) != after.get(n) for n in names)]
    return f",{','.join(groups)}," if groups else ""


@dataclass
class Entry:
    record: Record
    first_seen: datetime | str  # a datetime while replaying, ISO 8601 text once loaded or shown
    changed: datetime | str


def _text(value: datetime | str | None) -> str | None:
    return iso(value) if isinstance(value, datetime) else value


@dataclass
class NodeState:
    host: Record | None = None
    last_seen: datetime | str | None = None
    namespaces: dict[str, Entry] = field(default_factory=dict)
    interfaces: dict[str, Entry] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def entries(table: dict[str, Entry]) -> dict[str, list[Any]]:
            return {k: [e.record, _text(e.first_seen), _text(e.changed)] for k, e in table.items()}

        return {
            "host": self.host,
            "last_seen": _text(self.last_seen),
            "namespaces": entries(self.namespaces),
            "interfaces": entries(self.interfaces),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeState:
        return cls(
            host=data["host"],
            last_seen=data["last_seen"],
            namespaces={k: Entry(*v) for k, v in data["namespaces"].items()},
            interfaces={k: Entry(*v) for k, v in data["interfaces"].items()},
        )


# what Timeline.apply reads of a record: ``before_key`` is the key the object had before (only a
# move needs it, so the log is read without decoding ``before``)
REPLAY_FIELDS = ("node", "object_kind", "action", "object_key", "before_key", "after", "time", "graph_seq")


class Timeline:
    """The observed state of every node at one point of the log (``graph_seq``)."""

    def __init__(self, nodes: dict[str, NodeState] | None = None, graph_seq: int = 0) -> None:
        self.nodes: dict[str, NodeState] = nodes or {}
        self.graph_seq = graph_seq

    def apply(self, records: Iterable[dict[str, Any]]) -> Timeline:
        """Records (dicts with REPLAY_FIELDS) must come in publication order (graph_seq,
        position): the database reads them that way, so no sort here."""
        nodes = self.nodes
        for r in records:
            node, kind, action, when = r["node"], r["object_kind"], r["action"], r["time"]
            if r["graph_seq"] > self.graph_seq:
                self.graph_seq = r["graph_seq"]
            if kind == "host":
                if action == "removed":
                    nodes.pop(node, None)
                else:
                    state = nodes.setdefault(node, NodeState())
                    state.host, state.last_seen = r["after"], when
                continue
            if node not in nodes and action == "removed":
                continue  # the objects of a forgotten host, logged after the host itself
            state = nodes.setdefault(node, NodeState())
            table = state.namespaces if kind == "namespace" else state.interfaces
            if action == "removed":
                table.pop(r["object_key"], None)
                continue
            if action == "moved":
                table.pop(r["before_key"], None)
            after = r["after"]
            old = table.get(after["key"]) if action == "changed" else None
            table[after["key"]] = Entry(after, old.first_seen if old is not None else when, when)
        return self

    def dump(self) -> bytes:
        """A checkpoint's bytes: compressed JSON (a 1,000-namespace host is ~3 MB of JSON)."""
        data = {"graph_seq": self.graph_seq, "nodes": {n: s.to_json() for n, s in self.nodes.items()}}
        return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)

    @classmethod
    def load(cls, blob: bytes) -> Timeline:
        data = json.loads(zlib.decompress(blob))
        return cls({n: NodeState.from_json(s) for n, s in data["nodes"].items()}, data["graph_seq"])

    def only(self, nodes: Iterable[str]) -> Timeline:
        wanted = set(nodes)
        return Timeline({n: s for n, s in self.nodes.items() if n in wanted}, self.graph_seq)


# -- the graph JSON of a moment --------------------------------------------------------------------


def graph_json(timeline: Timeline) -> dict[str, Any]:
    """The same shape as /api/v1/topology/ (webui/topology/graph.py), built from records."""

    hosts, namespaces, interfaces = [], [], []
    for node in sorted(timeline.nodes):
        state = timeline.nodes[node]
        host = state.host or {"name": node, "state": "offline", "run": None}
        hosts.append({**host_json({**host, "name": node, "last_heartbeat": None}), "last_seen": _text(state.last_seen)})
        for key in sorted(state.namespaces):
            entry = state.namespaces[key]
            row = {**entry.record, "label": namespace_label(entry.record), "first_seen": None, "changed": None}
            namespaces.append(_times(namespace_json(node, row), entry))
        for key in sorted(state.interfaces):
            entry = state.interfaces[key]
            record = entry.record
            row = {
                **record,
                "namespace__key": record["namespace"],
                "master__key": record["master"] if record.get("master") in state.interfaces else None,
                "peer__key": record["peer"] if record.get("peer") in state.interfaces else None,
                "first_seen": None,
                "changed": None,
            }
            interfaces.append(_times(interface_json(node, row), entry))
    return {"seq": timeline.graph_seq, "hosts": hosts, "namespaces": namespaces, "interfaces": interfaces}


def _times(item: dict[str, Any], entry: Entry) -> dict[str, Any]:
    item["first_seen"], item["changed"] = _text(entry.first_seen), _text(entry.changed)
    return item


# -- what changed between two moments --------------------------------------------------------------


def _objects(timeline: Timeline) -> Iterator[tuple[str, str, Record]]:
    for node, state in timeline.nodes.items():
        yield node, "host", state.host or {"name": node}
        for key, entry in state.namespaces.items():
            yield f"{node}/{key}", "namespace", entry.record
        for key, entry in state.interfaces.items():
            yield f"{node}/{key}", "interface", entry.record


def _name(kind: str, record: Record) -> str:
    if kind == "namespace":
        return namespace_label(record)
    return str(record.get("name", ""))


def changes(before: Timeline, after: Timeline) -> dict[str, list[dict[str, Any]]]:
    """``{added, removed, changed}``: added/removed name each object (id, kind, name); changed
    lists, per object, each field that differs as ``[before, after]``."""
    old = {oid: (kind, rec) for oid, kind, rec in _objects(before)}
    new = {oid: (kind, rec) for oid, kind, rec in _objects(after)}
    added = [{"id": i, "kind": new[i][0], "name": _name(*new[i])} for i in sorted(new.keys() - old.keys())]
    removed = [{"id": i, "kind": old[i][0], "name": _name(*old[i])} for i in sorted(old.keys() - new.keys())]
    changed = []
    for oid in sorted(old.keys() & new.keys()):
        kind, a = old[oid]
        b = new[oid][1]
        if a == b:
            continue
        fields = {f: [a.get(f), b.get(f)] for f in sorted(a.keys() | b.keys()) if a.get(f) != b.get(f)}
        changed.append({"id": oid, "kind": kind, "name": _name(kind, b), "fields": fields})
    return {"added": added, "removed": removed, "changed": changed}
