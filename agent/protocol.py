"""The wire format between agent and server: plain JSON, versioned, imported by both sides.

One module, though long: the records, their strict validation and the message builders must
change together (a field added in one place and not the other is a refused snapshot).

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

import ipaddress
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypedDict, cast, get_args

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
OWNER_RUNTIMES: tuple[str, ...] = get_args(OwnerRuntime)
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


# -- strict validation: what the server accepts from an agent before anything is written ------------
#
# Every field is checked by type, range and character set, so that no value an agent sends can
# reach the database or a browser in a shape the rest of the code does not expect.

OPERSTATES = frozenset({"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"})  # RFC 2863
NAMESPACE_KINDS = frozenset(get_args(NamespaceKind))
PEER_STATUSES = frozenset(get_args(PeerStatus))
SCOPE_NAMES = frozenset({"global", "site", "link", "host", "nowhere"})  # else the number (agent/netlink.py)
# IFLA_INFO_KIND strings are short lower-case identifiers ("veth", "ip6gre", "virt_wifi"), and the
# agent's own "loopback" and "device"
LINK_KIND_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
NODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # NODE_NAME (agent/settings.py): the queue node.<NAME>
RUN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
NAMESPACE_KEY_RE = re.compile(r"ns:([0-9]{1,20})")
INTERFACE_KEY_RE = re.compile(r"if:([0-9]{1,20}):([0-9]{1,10})")
MAC_RE = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){0,19}")  # up to 20 bytes (InfiniBand)
CONTAINER_ID_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,127}")
IFNAMSIZ, ALTIFNAMSIZ, IFALIASZ = 16, 128, 256  # include/uapi/linux/if.h: sizes with the final NUL
INT32, INT64 = 2**31 - 1, 2**63 - 1  # what the database columns hold
MAX_NAMESPACES, MAX_INTERFACES, MAX_CHANGES = 100_000, 400_000, 500_000
MAX_ITEMS = 1024  # names, pids, altnames per record
MAX_ADDRESSES = 4096  # per interface
MAX_ERRORS, MAX_TEXT = 10_000, 4096

_NAMESPACE_FIELDS = frozenset(f.name for f in fields(Namespace))
_INTERFACE_FIELDS = frozenset(f.name for f in fields(Interface))
_NAMESPACE_REQUIRED = frozenset({"key", "inode", "dev", "kind"})
_INTERFACE_REQUIRED = frozenset({"key", "namespace", "ifindex", "name", "kind"})


def _fail(what: str, value: Any, rule: str) -> ProtocolError:
    return ProtocolError(f"{what} {_shown(value)} {rule}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(what: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(what, value, "is not an integer")
    if not low <= value <= high:
        raise _fail(what, value, f"is outside {low}..{high}")
    return value


def _text(what: str, value: Any, max_chars: int, pattern: re.Pattern[str] | None = None) -> str:
    """A string the database and a browser can hold: no NUL, no lone surrogate, bounded."""
    if not isinstance(value, str):
        raise _fail(what, value, "is not a string")
    if not value or len(value) > max_chars:
        raise _fail(what, value, f"must have 1 to {max_chars} characters")
    if "\0" in value:
        raise _fail(what, value, "contains NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(what, value, "is not valid Unicode (lone surrogate)") from None
    if pattern is not None and not pattern.fullmatch(value):
        raise _fail(what, value, f"does not match {pattern.pattern}")
    return value


def _one_of(what: str, value: Any, allowed: frozenset[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _fail(what, value, f"is not one of {sorted(allowed)}")
    return value


def _list(what: str, value: Any, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(what, value, "is not a list")
    if len(value) > max_items:
        raise ProtocolError(f"{what} has {len(value)} items, more than {max_items}")
    return value


def _fields(what: str, data: Any, allowed: frozenset[str], required: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(what, data, "is not an object")
    unknown = data.keys() - allowed
    if unknown:
        raise ProtocolError(f"{what} has unknown fields {sorted(map(str, unknown))!r:.80}")
    missing = required - data.keys()
    if missing:
        raise ProtocolError(f"{what} lacks fields {sorted(missing)!r}")
    return data


def validate_ifname(what: str, value: Any, size: int = IFNAMSIZ) -> str:
    """A name as the kernel allows it (net/core/dev.c dev_valid_name): 1 to size-1 bytes, not
    "." or "..", no '/', ':' or ASCII whitespace. The agent decodes names with errors="replace"
    (agent/netlink.py), so a U+FFFD stands for one byte the kernel had."""
    name = _text(what, value, size - 1)
    if len(name.encode("utf-8")) - 2 * name.count("\ufffd") >= size:
        raise _fail(what, value, f"is longer than {size - 1} bytes")
    if name in (".", "..") or any(c in "/: \t\n\v\f\r" for c in name):
        raise _fail(what, value, "is not a valid interface name")
    return name


def validate_namespace(data: Any) -> None:
    """One namespace record (agent/protocol.py Namespace as JSON); ProtocolError with the reason."""
    _fields("namespace", data, _NAMESPACE_FIELDS, _NAMESPACE_REQUIRED)
    key = _text("namespace key", data["key"], 24, NAMESPACE_KEY_RE)
    what = f"namespace {key}"
    inode = _int(f"{what} inode", data["inode"], 1, INT64)
    if key != namespace_key(inode):
        raise ProtocolError(f"{what}: key does not match inode {inode}")
    _int(f"{what} dev", data["dev"], 0, INT64)
    _one_of(f"{what} kind", data["kind"], NAMESPACE_KINDS)
    for name in _list(f"{what} names", data.get("names", []), MAX_ITEMS):
        _text(f"{what} name", name, 255)
    for process in _list(f"{what} pids", data.get("pids", []), MAX_ITEMS):
        _fields(f"{what} process", process, frozenset({"pid", "comm"}), frozenset({"pid", "comm"}))
        _int(f"{what} pid", process["pid"], 1, 2**22)  # PID_MAX_LIMIT
        _text(f"{what} comm", process["comm"], 64)
    if data.get("container_id") is not None:
        _text(f"{what} container_id", data["container_id"], 128, CONTAINER_ID_RE)
    if data.get("nsid") is not None:
        _int(f"{what} nsid", data["nsid"], -1, INT32)
    if data.get("owner") is not None:
        owner_from_json(data["owner"])
    if data.get("holder") is not None and not holder_ok(data["holder"]):
        raise _fail(f"{what} holder", data["holder"], "is not a path or 'pid N (comm) fd M' without control characters")


def validate_address(what: str, data: Any) -> None:
    _fields(what, data, frozenset({"family", "address", "prefixlen", "scope"}), frozenset({"family", "address"}))
    family = data["family"]
    if family not in (4, 6) or isinstance(family, bool):
        raise _fail(f"{what} family", family, "is not 4 or 6")
    text = _text(f"{what} address", data["address"], 64)
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        raise _fail(f"{what} address", text, "is not an IP address") from None
    if parsed.version != family:
        raise _fail(f"{what} address", text, f"is not an IPv{family} address")
    _int(f"{what} prefixlen", data.get("prefixlen", 0), 0, 32 if family == 4 else 128)
    scope = data.get("scope", "global")
    if not (isinstance(scope, str) and (scope in SCOPE_NAMES or (scope.isdigit() and int(scope) <= 255))):
        raise _fail(f"{what} scope", scope, f"is not one of {sorted(SCOPE_NAMES)} or 0..255")


def validate_interface(data: Any) -> None:
    """One interface record (agent/protocol.py Interface as JSON); ProtocolError with the reason."""
    _fields("interface", data, _INTERFACE_FIELDS, _INTERFACE_REQUIRED)
    key = _text("interface key", data["key"], 40, INTERFACE_KEY_RE)
    what = f"interface {key}"
    namespace = _text(f"{what} namespace", data["namespace"], 24, NAMESPACE_KEY_RE)
    ifindex = _int(f"{what} ifindex", data["ifindex"], 1, INT32)
    if key != interface_key(int(namespace[3:]), ifindex):
        raise ProtocolError(f"{what}: key does not match namespace {namespace} and ifindex {ifindex}")
    validate_ifname(f"{what} name", data["name"])
    _text(f"{what} kind", data["kind"], 32, LINK_KIND_RE)
    if data.get("mac") is not None:
        _text(f"{what} mac", data["mac"], 64, MAC_RE)
    if data.get("mtu") is not None:
        _int(f"{what} mtu", data["mtu"], 0, INT32)
    _one_of(f"{what} operstate", data.get("operstate", "UNKNOWN"), OPERSTATES)
    if not isinstance(data.get("up", False), bool):
        raise _fail(f"{what} up", data["up"], "is not true or false")
    for name in ("master", "peer"):
        if data.get(name) is not None:
            _text(f"{what} {name}", data[name], 40, INTERFACE_KEY_RE)
    for index, address in enumerate(_list(f"{what} addresses", data.get("addresses", []), MAX_ADDRESSES)):
        validate_address(f"{what} address {index}", address)
    for altname in _list(f"{what} altnames", data.get("altnames", []), MAX_ITEMS):
        validate_ifname(f"{what} altname", altname, ALTIFNAMSIZ)
    if data.get("alias") is not None:
        _text(f"{what} alias", data["alias"], IFALIASZ - 1)
    if data.get("peer_ifindex") is not None:
        _int(f"{what} peer_ifindex", data["peer_ifindex"], 0, INT32)
    if data.get("peer_status") is not None:
        _one_of(f"{what} peer_status", data["peer_status"], PEER_STATUSES)
    if data.get("peer_note") is not None:
        _text(f"{what} peer_note", data["peer_note"], 255)


def validate_change(change: Any) -> None:
    """One change of a delta: op, kind, key, and for an upsert a valid record with that key."""
    if not isinstance(change, dict) or change.get("op") not in ("upsert", "remove"):
        raise ProtocolError(f"bad change {change!r:.80}")
    if change.get("kind") not in ("namespace", "interface") or not isinstance(change.get("key"), str):
        raise ProtocolError(f"bad change {change!r:.80}")
    if change["op"] == "upsert":
        if not isinstance(change.get("data"), dict):
            raise ProtocolError(f"an upsert of {change['kind']} carries no record: {change!r:.80}")
        (validate_namespace if change["kind"] == "namespace" else validate_interface)(change["data"])
        if change["data"]["key"] != change["key"]:
            raise ProtocolError("change key differs from its record's key")
    else:
        _text(f"removed {change['kind']} key", change["key"], 40)


def validate_snapshot(data: dict[str, Any]) -> None:
    namespaces = _list("snapshot namespaces", data.get("namespaces"), MAX_NAMESPACES)
    interfaces = _list("snapshot interfaces", data.get("interfaces"), MAX_INTERFACES)
    for record in namespaces:
        validate_namespace(record)
    for record in interfaces:
        validate_interface(record)
    for error in _list("snapshot errors", data.get("errors", []), MAX_ERRORS):
        _text("snapshot error", error, MAX_TEXT)
    if not isinstance(data.get("complete", True), bool):
        raise _fail("snapshot complete", data["complete"], "is not true or false")


def validate_message(data: Any) -> dict[str, Any]:
    """Check an incoming message's envelope and every field of its body; raise ProtocolError
    with the reason."""
    check_version(data)
    for name, kind in (("type", str), ("node", str), ("run", str), ("seq", int), ("time", (int, float))):
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            raise ProtocolError(f"field {name!r} missing or of the wrong type")
    _text("node", data["node"], 63, NODE_RE)
    _text("run", data["run"], 64, RUN_RE)
    if data["seq"] < 1:
        raise ProtocolError("seq starts at 1")
    _int("seq", data["seq"], 1, INT64)
    if not math.isfinite(data["time"]) or data["time"] < 0:
        raise _fail("time", data["time"], "is not a finite time after 1970")
    if data["type"] == "snapshot":
        validate_snapshot(data)
    elif data["type"] == "delta":
        for change in _list("delta changes", data.get("changes"), MAX_CHANGES):
            validate_change(change)
    elif data["type"] != "heartbeat":
        raise ProtocolError(f"unknown message type {data['type']!r}")
    return cast("dict[str, Any]", data)  # check_version() proved it a dict
