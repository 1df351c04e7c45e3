"""The wire format between agent and server: plain JSON, versioned, imported by both sides.

Keys are stable strings, unique on one host:
  namespace  "ns:<inode>"              (identity is (st_dev, st_ino) of the nsfs file; nsfs
                                        is a single superblock, so the inode alone is unique)
  interface  "if:<ns inode>:<ifindex>"  (ifindex is per namespace and survives a rename)
The server makes them unique across hosts by prefixing the node name ("<node>/<key>").

Messages (agent -> server, Celery queue ``ingest``), each carrying ``v``, ``type``, ``node``,
``run`` (one uuid per agent process), ``seq`` (1, 2, 3... within one run, no gaps) and ``time``:
  snapshot   the whole inventory: ``namespaces``, ``interfaces``, ``errors``
  delta      ``changes``: a list of {"op": "upsert"|"remove", "kind": "namespace"|"interface",
             "key": ..., "data": record or None}; applying them in order to the previous state
             gives the new state
  heartbeat  nothing more; tells the server the agent is alive and where its seq stands
Commands (server -> agent, queue ``node.<NODE_NAME>``): {"v", "type": "command", "command":
"resync", "id"}.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, cast

PROTOCOL_VERSION = 2  # 2: a namespace's owner and holder; kinds mount, fd, socket

# mount: held by a bind mount outside the named folders; fd: only by a process's open fd;
# socket: only by a socket (agent/holders.py)
NamespaceKind = Literal["root", "named", "docker", "mount", "process", "fd", "socket"]
PeerStatus = Literal["resolved", "unresolved"]
MessageType = Literal["snapshot", "delta", "heartbeat"]
RecordKind = Literal["namespace", "interface"]


class ProtocolError(ValueError):
    """A message that does not follow this module's rules."""


def namespace_key(inode: int) -> str:
    return f"ns:{inode}"


def interface_key(ns_inode: int, ifindex: int) -> str:
    return f"if:{ns_inode}:{ifindex}"


def interface_label(name: str, peer_ifindex: int | None) -> str:
    """The seed's notation: eth0@if117 where the peer index is known."""
    return f"{name}@if{peer_ifindex}" if peer_ifindex else name


@dataclass(slots=True)
class Process:
    pid: int
    comm: str


# -- owners: who runs what lives in a namespace (agent/owners.py finds them) ---------------------

OwnerRuntime = Literal["docker", "podman", "containerd", "cri-o", "systemd-nspawn", "lxc", "mininet"]
OWNER_RUNTIMES: tuple[str, ...] = ("docker", "podman", "containerd", "cri-o", "systemd-nspawn", "lxc", "mininet")
# names as runtimes allow them (docker, k8s, machines, LXC, Mininet), without control characters,
# quotes or markup; ids are hex or uuid-like
OWNER_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:@/+=~ -]{0,252}$")
OWNER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
OWNER_TEXT = ("name", "pod", "pod_namespace", "project")
OWNER_IDS = ("id", "pod_uid")
OWNER_LISTS = ("containers", "networks")
OWNER_MAX_LIST = 64
HOLDER_MAX = 4096


@dataclass(slots=True, frozen=True)
class Owner:
    """Who owns a namespace, named the way the owner names it."""

    runtime: OwnerRuntime
    name: str | None = None  # container, machine or Mininet host name
    id: str | None = None  # container id
    pod: str | None = None  # Kubernetes pod name
    pod_namespace: str | None = None
    pod_uid: str | None = None
    containers: tuple[str, ...] = ()  # the pod's containers, or the container's own name
    project: str | None = None  # compose project
    networks: tuple[str, ...] = ()  # the runtime's network names

    @property
    def label(self) -> str | None:
        if self.pod:
            return f"{self.pod_namespace}/{self.pod}" if self.pod_namespace else self.pod
        return self.name


def owner_to_json(owner: Owner) -> dict[str, Any]:
    return {
        "runtime": owner.runtime,
        "name": owner.name,
        "id": owner.id,
        "pod": owner.pod,
        "pod_namespace": owner.pod_namespace,
        "pod_uid": owner.pod_uid,
        "containers": list(owner.containers),
        "project": owner.project,
        "networks": list(owner.networks),
    }


def owner_from_json(data: Any) -> Owner:
    """The owner in a message, checked strictly: known keys, types, lengths, character sets."""
    if not isinstance(data, dict):
        raise ProtocolError("owner: a JSON object")
    unknown = set(data) - {"runtime", *OWNER_TEXT, *OWNER_IDS, *OWNER_LISTS}
    if unknown:
        raise ProtocolError(f"owner: unknown fields {sorted(unknown)!r:.80}")
    if data.get("runtime") not in OWNER_RUNTIMES:
        raise ProtocolError(f"owner: runtime {data.get('runtime')!r:.40} is not one of {', '.join(OWNER_RUNTIMES)}")
    fields: dict[str, Any] = {"runtime": data["runtime"]}
    for name in (*OWNER_TEXT, *OWNER_IDS):
        value = data.get(name)
        if value is not None and not owner_text_ok(name, value):
            raise ProtocolError(f"owner: {name} {value!r:.80} is not allowed")
        fields[name] = value
    for name in OWNER_LISTS:
        values = data.get(name, [])
        if not isinstance(values, list) or len(values) > OWNER_MAX_LIST:
            raise ProtocolError(f"owner: {name} is a list of at most {OWNER_MAX_LIST} names")
        for value in values:
            if not owner_text_ok(name, value):
                raise ProtocolError(f"owner: {name} entry {value!r:.80} is not allowed")
        fields[name] = tuple(values)
    return Owner(**fields)


def owner_text_ok(field_name: str, value: Any) -> bool:
    """Whether ``value`` may stand in the owner's ``field_name`` (the agent drops what may not)."""
    pattern = OWNER_ID_RE if field_name in OWNER_IDS else OWNER_NAME_RE
    return isinstance(value, str) and pattern.match(value) is not None


def clean_holder(text: str) -> str:
    """A holder the protocol allows: control characters (a mount path may hold any) shown as "?"."""
    return "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in text)[:HOLDER_MAX] or "?"


def holder_ok(value: Any) -> bool:
    """A holder is a path or "pid N (comm) fd M": any text without control characters."""
    return (
        isinstance(value, str) and 0 < len(value) <= HOLDER_MAX and not any(ord(c) < 32 or ord(c) == 127 for c in value)
    )


# -- records -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Namespace:
    key: str
    inode: int
    dev: int
    kind: NamespaceKind
    names: list[str] = field(default_factory=list)
    pids: list[Process] = field(default_factory=list)
    container_id: str | None = None
    nsid: int | None = None  # id in the agent's root namespace (None for root itself)
    owner: Owner | None = None
    holder: str | None = None  # what alone keeps a hidden namespace: a mount path, "pid N (comm) fd M"

    @property
    def label(self) -> str:
        """What a person calls it: its owner's name, its first name, what holds it, else "pid 4711 (nginx)"."""
        if self.kind == "root":
            return "root"
        if self.owner is not None and self.owner.label:
            return self.owner.label
        if self.names:
            return self.names[0]
        if self.holder:
            return self.holder
        if self.container_id:
            return self.container_id[:12]
        if self.pids:
            return f"pid {self.pids[0].pid} ({self.pids[0].comm})"
        return self.key


@dataclass(slots=True)
class Address:
    family: Literal[4, 6]
    address: str
    prefixlen: int
    scope: str = "global"

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass(slots=True)
class Interface:
    key: str
    namespace: str
    ifindex: int
    name: str
    kind: str  # IFLA_INFO_KIND ("veth", "bridge", ...), "loopback" or "device"
    mac: str | None = None
    mtu: int | None = None
    operstate: str = "UNKNOWN"
    up: bool = False
    master: str | None = None
    addresses: list[Address] = field(default_factory=list)
    altnames: list[str] = field(default_factory=list)
    alias: str | None = None
    peer_ifindex: int | None = None  # IFLA_LINK: `@ifN`, /sys/class/net/X/iflink
    peer: str | None = None  # exact key of the other veth end
    peer_status: PeerStatus | None = None  # only for veth
    peer_note: str | None = None  # why a peer is unresolved

    @property
    def display_name(self) -> str:
        return interface_label(self.name, self.peer_ifindex)


@dataclass(slots=True)
class Inventory:
    node: str
    namespaces: list[Namespace] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what could not be seen, and why
    complete: bool = True  # False when some namespaces or processes could not be read

    def to_json(self) -> dict[str, Any]:
        return {
            "v": PROTOCOL_VERSION,
            "node": self.node,
            "namespaces": [namespace_to_json(n) for n in self.namespaces],
            "interfaces": [interface_to_json(i) for i in self.interfaces],
            "errors": list(self.errors),
            "complete": self.complete,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inventory:
        check_version(data)
        try:
            return cls(
                node=str(data["node"]),
                namespaces=[namespace_from_json(n) for n in data["namespaces"]],
                interfaces=[interface_from_json(i) for i in data["interfaces"]],
                errors=[str(e) for e in data.get("errors", [])],
                complete=bool(data.get("complete", True)),
            )
        except (KeyError, TypeError) as exc:
            raise ProtocolError(f"malformed inventory: {exc!r}") from exc


def namespace_from_json(data: dict[str, Any]) -> Namespace:
    fields = dict(data)
    fields["pids"] = [Process(**p) for p in fields.get("pids", [])]
    if fields.get("owner") is not None:
        fields["owner"] = owner_from_json(fields["owner"])
    if fields.get("holder") is not None and not holder_ok(fields["holder"]):
        raise ProtocolError(f"holder {fields['holder']!r:.80} is not allowed")
    return Namespace(**fields)


def interface_from_json(data: dict[str, Any]) -> Interface:
    fields = dict(data)
    fields["addresses"] = [Address(**a) for a in fields.get("addresses", [])]
    return Interface(**fields)


def check_version(data: dict[str, Any]) -> None:
    if not isinstance(data, dict):
        raise ProtocolError("a message is a JSON object")
    if data.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {data.get('v')!r}, expected {PROTOCOL_VERSION}")


def namespace_to_json(ns: Namespace) -> dict[str, Any]:
    """Built by hand: dataclasses.asdict deep-copies and costs 10x at a thousand namespaces."""
    return {
        "key": ns.key,
        "inode": ns.inode,
        "dev": ns.dev,
        "kind": ns.kind,
        "names": list(ns.names),
        "pids": [{"pid": p.pid, "comm": p.comm} for p in ns.pids],
        "container_id": ns.container_id,
        "nsid": ns.nsid,
        "owner": None if ns.owner is None else owner_to_json(ns.owner),
        "holder": ns.holder,
    }


def interface_to_json(i: Interface) -> dict[str, Any]:
    return {
        "key": i.key,
        "namespace": i.namespace,
        "ifindex": i.ifindex,
        "name": i.name,
        "kind": i.kind,
        "mac": i.mac,
        "mtu": i.mtu,
        "operstate": i.operstate,
        "up": i.up,
        "master": i.master,
        "addresses": [
            {"family": a.family, "address": a.address, "prefixlen": a.prefixlen, "scope": a.scope} for a in i.addresses
        ],
        "altnames": list(i.altnames),
        "alias": i.alias,
        "peer_ifindex": i.peer_ifindex,
        "peer": i.peer,
        "peer_status": i.peer_status,
        "peer_note": i.peer_note,
    }


class Upsert(TypedDict):
    op: Literal["upsert"]
    kind: RecordKind
    key: str
    data: dict[str, Any]  # the record's JSON (namespace_to_json / interface_to_json)


class Removal(TypedDict):
    op: Literal["remove"]
    kind: RecordKind
    key: str
    data: None


# One entry of a delta's ``changes``. TypedDicts are the JSON objects themselves: no conversion
# on the way out, and ``change["op"] == "upsert"`` tells the checker that ``data`` is a record.
Change = Upsert | Removal


def upsert(record: Namespace | Interface) -> Upsert:
    """The change that stores ``record`` (keys in wire order: op, kind, key, data)."""
    if isinstance(record, Namespace):
        return {"op": "upsert", "kind": "namespace", "key": record.key, "data": namespace_to_json(record)}
    return {"op": "upsert", "kind": "interface", "key": record.key, "data": interface_to_json(record)}


def removal(kind: RecordKind, key: str) -> Removal:
    """The change that deletes the record ``key``."""
    return {"op": "remove", "kind": kind, "key": key, "data": None}


def diff_records(
    kind: RecordKind, before: list[Namespace] | list[Interface], after: list[Namespace] | list[Interface]
) -> tuple[list[Change], list[Change]]:
    """(upserts, removals) that turn the records ``before`` into ``after``."""
    previous = {r.key: r for r in before}
    current = {r.key: r for r in after}
    upserts: list[Change] = [upsert(record) for key, record in current.items() if previous.get(key) != record]
    removals: list[Change] = [removal(kind, key) for key in previous.keys() - current.keys()]
    return upserts, removals


def canonical_order(changes: Iterable[Change]) -> list[Change]:
    """The last change per record, namespace upserts first, then interface upserts, interface
    removals, namespace removals.

    Keeping only the last change per key makes any order of distinct keys give the same final
    state (a namespace removed and found again in one batch stays); this order never references
    a namespace before it exists or after it is gone.
    """
    last: dict[tuple[str, str], Change] = {}
    for change in changes:
        ident = (change["kind"], change["key"])
        last.pop(ident, None)
        last[ident] = change
    rank = {("upsert", "namespace"): 0, ("upsert", "interface"): 1, ("remove", "interface"): 2}
    return sorted(last.values(), key=lambda c: rank.get((c["op"], c["kind"]), 3))


def diff_inventories(old: Inventory, new: Inventory) -> list[Change]:
    """The delta ``changes`` that turn ``old`` into ``new``."""
    namespaces = diff_records("namespace", old.namespaces, new.namespaces)
    interfaces = diff_records("interface", old.interfaces, new.interfaces)
    return canonical_order([*namespaces[0], *namespaces[1], *interfaces[0], *interfaces[1]])


def make_message(type_: MessageType, node: str, run: str, seq: int, time: float, **body: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": type_, "node": node, "run": run, "seq": seq, "time": time, **body}


def validate_message(data: Any) -> dict[str, Any]:
    """Check an incoming message's envelope and body shape; raise ProtocolError with the reason."""
    check_version(data)
    for name, kind in (("type", str), ("node", str), ("run", str), ("seq", int), ("time", (int, float))):
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            raise ProtocolError(f"field {name!r} missing or of the wrong type")
    if data["seq"] < 1:
        raise ProtocolError("seq starts at 1")
    if data["type"] == "snapshot":
        Inventory.from_json(data)
    elif data["type"] == "delta":
        changes = data.get("changes")
        if not isinstance(changes, list):
            raise ProtocolError("a delta carries a list of changes")
        for change in changes:
            if not isinstance(change, dict) or change.get("op") not in ("upsert", "remove"):
                raise ProtocolError(f"bad change {change!r:.80}")
            if change.get("kind") not in ("namespace", "interface") or not isinstance(change.get("key"), str):
                raise ProtocolError(f"bad change {change!r:.80}")
            if change["op"] == "upsert":
                try:
                    parse = namespace_from_json if change["kind"] == "namespace" else interface_from_json
                    if parse(change["data"]).key != change["key"]:
                        raise ProtocolError("change key differs from its record's key")
                except (TypeError, KeyError) as exc:
                    raise ProtocolError(f"malformed {change['kind']} record: {exc!r}") from exc
    elif data["type"] != "heartbeat":
        raise ProtocolError(f"unknown message type {data['type']!r}")
    return cast("dict[str, Any]", data)  # check_version() proved it a dict


# Lab commands (server -> agent) and their results (agent -> server); docs/CONTRACTS.md "Lab verbs".
# A command travels as Celery task LAB_COMMAND_TASK on queue node.<NODE_NAME> with args
# [body, signature]: signature = agent.signing.sign(body, node key), over the exact text. A result
# is signed the same way and sent as task COMMAND_RESULT_TASK [body, signature] on queue "ingest",
# outside the snapshot/delta seq stream (a result is not a change of the topology).

LAB_COMMAND_TASK = "nsmap.agent_lab_command"
COMMAND_RESULT_TASK = "nsmap.command_result"
COMMAND_FIELDS = frozenset({"v", "type", "id", "verb", "args", "actor", "request_id", "time"})
RESULT_FIELDS = frozenset({"v", "type", "node", "id", "status", "error", "result", "timings", "time"})
CommandStatus = Literal["running", "done", "failed"]
COMMAND_STATUSES: tuple[CommandStatus, ...] = ("running", "done", "failed")
MAX_ACTOR = 150  # Django's username length
MAX_REQUEST_ID = 100
MAX_ERROR = 2000


def make_command(
    id: str, verb: str, args: dict[str, Any], actor: str, request_id: str | None, time: float
) -> dict[str, Any]:
    return {
        "v": PROTOCOL_VERSION,
        "type": "command",
        "id": id,
        "verb": verb,
        "args": args,
        "actor": actor,
        "request_id": request_id,
        "time": time,
    }


def make_command_result(
    node: str,
    id: str,
    status: CommandStatus,
    time: float,
    error: str | None = None,
    result: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    return {
        "v": PROTOCOL_VERSION,
        "type": "command_result",
        "node": node,
        "id": id,
        "status": status,
        "error": None if error is None else error[:MAX_ERROR],
        "result": result,
        "timings": timings or {},
        "time": time,
    }


def _exact_fields(data: Any, fields: frozenset[str], type_: str) -> dict[str, Any]:
    check_version(data)
    if data.get("type") != type_:
        raise ProtocolError(f"type {data.get('type')!r:.40}, expected {type_!r}")
    missing, extra = fields - set(data), set(data) - fields
    if missing or extra:
        raise ProtocolError(f"{type_}: missing {sorted(missing)!r}, unexpected {sorted(map(str, extra))!r}"[:300])
    checked: dict[str, Any] = data
    return checked


def _uuid(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be a UUID string")
    try:
        if str(uuid.UUID(value)) != value:
            raise ValueError
    except ValueError:
        raise ProtocolError(f"{name} {value!r:.60} is not a canonical UUID") from None


def _text(value: Any, name: str, low: int, high: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise ProtocolError(f"{name} must be a string of {low}..{high} characters")
    if any(not ch.isprintable() for ch in value):
        raise ProtocolError(f"{name} must not contain control characters")


def _finite(value: Any, name: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ProtocolError(f"{name} must be a finite number")


def validate_command(message: Any) -> dict[str, Any]:
    """A lab command's envelope (the verb's args are agent.verbs' to check); ProtocolError with the reason."""
    data = _exact_fields(message, COMMAND_FIELDS, "command")
    _uuid(data["id"], "id")
    _text(data["verb"], "verb", 1, 40)
    if not isinstance(data["args"], dict):
        raise ProtocolError("args must be a JSON object")
    _text(data["actor"], "actor", 1, MAX_ACTOR)
    _text(data["request_id"], "request_id", 1, MAX_REQUEST_ID, optional=True)
    _finite(data["time"], "time")
    return data


def validate_command_result(message: Any) -> dict[str, Any]:
    """An agent's report on a lab command; ProtocolError with the reason."""
    data = _exact_fields(message, RESULT_FIELDS, "command_result")
    _text(data["node"], "node", 1, 63)
    _uuid(data["id"], "id")
    if data["status"] not in COMMAND_STATUSES:
        raise ProtocolError(f"status {data['status']!r:.40} is not one of {', '.join(COMMAND_STATUSES)}")
    if data["status"] == "failed":
        _text(data["error"], "error", 1, MAX_ERROR)
    elif data["error"] is not None:
        raise ProtocolError(f"a {data['status']} command carries no error")
    if data["result"] is not None and not isinstance(data["result"], dict):
        raise ProtocolError("result must be a JSON object or null")
    timings = data["timings"]
    if not isinstance(timings, dict) or len(timings) > 10:
        raise ProtocolError("timings must be an object of at most 10 numbers")
    for key, value in timings.items():
        _text(key, "timings key", 1, 40)
        _finite(value, f"timings[{key!r}]")
    _finite(data["time"], "time")
    return data
