"""Rows <-> protocol records, pure (no queries): the ingest compares and the change log stores
records in the agent's own format (agent/protocol.py), so history needs no other schema."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from agent.protocol import Interface as InterfaceRecord
from webui.topology.diff import Record, interface_label, namespace_label

NAMESPACE_FIELDS = ("key", "inode", "dev", "kind", "names", "pids", "container_id", "nsid", "owner", "holder")
INTERFACE_PLAIN = (
    "key",
    "ifindex",
    "name",
    "kind",
    "mac",
    "mtu",
    "operstate",
    "up",
    "addresses",
    "altnames",
    "alias",
    "peer_ifindex",
    "peer_status",
    "peer_note",
)
# the protocol's field order, so that stored JSON reads like the agent's
INTERFACE_ORDER = tuple(f.name for f in fields(InterfaceRecord))
# record field -> model field, for the fields whose names differ
INTERFACE_RENAMED = {"namespace": "namespace__key", "master": "master_key", "peer": "peer_key"}

# what the ingest loads with .values(); the graph JSON uses the same rows
NAMESPACE_VALUES = ("id", *NAMESPACE_FIELDS, "label", "first_seen", "changed")
INTERFACE_VALUES = (
    "id",
    *INTERFACE_PLAIN,
    "namespace__key",
    "master_key",
    "peer_key",
    "peer__key",
    "master__key",
    "first_seen",
    "changed",
)


def namespace_record(row: dict[str, Any]) -> Record:
    return {name: row[name] for name in NAMESPACE_FIELDS}


def interface_record(row: dict[str, Any]) -> Record:
    record = {name: row[name] for name in INTERFACE_PLAIN}
    for name, column in INTERFACE_RENAMED.items():
        record[name] = row[column]
    return {name: record[name] for name in INTERFACE_ORDER}


def namespace_columns(record: Record) -> dict[str, Any]:
    """Model field values for a namespace record (without node/timestamps)."""
    columns = {name: record[name] for name in NAMESPACE_FIELDS}
    columns["label"] = namespace_label(record)[:255]
    return columns


def interface_columns(record: Record) -> dict[str, Any]:
    """Model field values for an interface record (without node, namespace FK and timestamps)."""
    columns = {name: record[name] for name in INTERFACE_PLAIN}
    columns["master_key"] = record["master"]
    columns["peer_key"] = record["peer"]
    return columns


def display_name(kind: str, record: Record) -> str:
    return namespace_label(record) if kind == "namespace" else interface_label(record)
