"""Rebuild observed state from the change log (pure): the basis of time travel.

``replay(records)`` applies records in publication order (graph_seq, position) and returns, per
node, the namespaces and interfaces as protocol records. The state at time T is
``replay(ChangeRecord.objects.filter(time__lte=T))``; the ingest keeps this equal to the stored
rows (tests/webui/test_changelog_replay.py checks it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass
class NodeState:
    namespaces: dict[str, Record] = field(default_factory=dict)
    interfaces: dict[str, Record] = field(default_factory=dict)
    host: Record | None = None


def replay(records: Iterable[Any]) -> dict[str, NodeState]:
    """``records``: ChangeRecord rows or dicts with node, object_kind, object_key, action,
    before, after, graph_seq, position."""

    def get(r: Any, name: str) -> Any:
        return r[name] if isinstance(r, dict) else getattr(r, name)

    ordered = sorted(records, key=lambda r: (get(r, "graph_seq"), get(r, "position")))
    nodes: dict[str, NodeState] = {}
    for r in ordered:
        state = nodes.setdefault(get(r, "node"), NodeState())
        kind, action = get(r, "object_kind"), get(r, "action")
        before, after = get(r, "before"), get(r, "after")
        if kind == "host":
            if action == "removed":
                nodes.pop(get(r, "node"), None)
            else:
                state.host = after
            continue
        table = state.namespaces if kind == "namespace" else state.interfaces
        if action in ("removed", "moved") and before is not None:
            table.pop(before["key"], None)
        if action in ("added", "changed", "moved") and after is not None:
            table[after["key"]] = after
    return nodes
