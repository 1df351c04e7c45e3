"""The graph JSON of docs/CONTRACTS.md, built from plain row dicts (``.values()``) — no queries
here, so it is tested without a database and the REST view, the WebSocket's first message and
the patches all share one rendering."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from agent.protocol import Address, interface_label


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, milliseconds kept (several changes happen within a second)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def host_json(node: dict[str, Any]) -> dict[str, Any]:
    """``node``: name, state, last_heartbeat, run."""
    return {
        "id": node["name"],
        "name": node["name"],
        "state": node["state"],
        "last_seen": iso(node["last_heartbeat"]),
        "run": node["run"] or None,
    }


def namespace_json(node: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{node}/{row['key']}",
        "host": node,
        "key": row["key"],
        "kind": row["kind"],
        "label": row["label"],
        "names": row["names"],
        "pids": row["pids"],
        "container_id": row["container_id"],
        "owner": row["owner"],
        "holder": row["holder"],
        "inode": row["inode"],
        "first_seen": iso(row["first_seen"]),
        "changed": iso(row["changed"]),
    }


def address_text(address: dict[str, Any]) -> str:
    return str(Address(**address))


def interface_json(node: str, row: dict[str, Any]) -> dict[str, Any]:
    """``peer``/``master`` are ids only when that interface is stored (the relation is set),
    so the browser never gets an edge to a missing element."""
    peer_ifindex = row["peer_ifindex"]
    return {
        "id": f"{node}/{row['key']}",
        "host": node,
        "namespace": f"{node}/{row['namespace__key']}",
        "key": row["key"],
        "ifindex": row["ifindex"],
        "name": row["name"],
        "label": interface_label(row["name"], peer_ifindex),
        "kind": row["kind"],
        "mac": row["mac"],
        "mtu": row["mtu"],
        "operstate": row["operstate"],
        "up": row["up"],
        "master": f"{node}/{row['master__key']}" if row.get("master__key") else None,
        "addresses": [address_text(a) for a in row["addresses"]],
        "altnames": row["altnames"],
        "alias": row["alias"],
        "peer_ifindex": peer_ifindex,
        "peer": f"{node}/{row['peer__key']}" if row.get("peer__key") else None,
        "peer_status": row["peer_status"],
        "peer_note": row["peer_note"],
        "first_seen": iso(row["first_seen"]),
        "changed": iso(row["changed"]),
    }


def build_graph(
    seq: int,
    nodes: Iterable[dict[str, Any]],
    namespaces: Iterable[dict[str, Any]],
    interfaces: Iterable[dict[str, Any]],
) -> dict[str, Any]:
    """The whole graph. Namespace and interface rows carry ``node__name``."""
    return {
        "seq": seq,
        "hosts": [host_json(n) for n in nodes],
        "namespaces": [namespace_json(r["node__name"], r) for r in namespaces],
        "interfaces": [interface_json(r["node__name"], r) for r in interfaces],
    }


def build_patch(
    seq: int,
    hosts: Iterable[dict[str, Any]] = (),
    namespaces: Iterable[dict[str, Any]] = (),
    interfaces: Iterable[dict[str, Any]] = (),
    removed_namespaces: Iterable[str] = (),
    removed_interfaces: Iterable[str] = (),
    removed_hosts: Iterable[str] = (),
) -> dict[str, Any]:
    """A patch message body (without "type"); removals are global ids ("hosts" only when a
    host goes: a forgotten node)."""
    remove: dict[str, list[str]] = {"namespaces": sorted(removed_namespaces), "interfaces": sorted(removed_interfaces)}
    if hosts_gone := sorted(removed_hosts):
        remove["hosts"] = hosts_gone
    return {
        "seq": seq,
        "upsert": {
            "hosts": [host_json(n) for n in hosts],
            "namespaces": [namespace_json(r["node__name"], r) for r in namespaces],
            "interfaces": [interface_json(r["node__name"], r) for r in interfaces],
        },
        "remove": remove,
    }
