"""The lab verbs' arguments, checked completely and without I/O (shared by the agent, its CLI and the server).

Every verb's args are a JSON object with exactly the keys docs/CONTRACTS.md ("Lab verbs") lists;
each problem is reported as (field, reason), all of them at once, and nothing runs unless there
is none. What only the kernel can answer (does the namespace exist, is the name free, is the
interface nsmap's) is checked by agent/actions.py before it changes anything.

References: a namespace by graph id ("h1/ns:4026531840", or "ns:4026531840" on the host itself)
or, for a named namespace, by its /run/netns name; an interface by graph id
("h1/if:<namespace inode>:<ifindex>"). A graph id of another node is refused: a veth never spans hosts.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from agent.protocol import IFNAMSIZ

NETNS_NAME_MAX = 63  # our own limit for /run/netns names: the file name becomes part of paths and logs
MTU_LIMITS: Mapping[str, tuple[int, int]] = {"veth": (68, 65535)}  # ETH_MIN_MTU..ETH_MAX_MTU (veth.c)
MTU_DEFAULT = 1500
PING_COUNT = (1, 20, 3)  # low, high, default
PING_TIMEOUT = (1, 30, 5)  # seconds for the whole run
MAX_REF = 200  # longer than any graph id or name that can be valid
MARK = "nsmap:"  # + command id: the alias nsmap gives what it creates (agent/actions.py)


NS_ID = re.compile(r"^(?:(?P<node>[A-Za-z0-9][A-Za-z0-9._-]{0,62})/)?ns:(?P<inode>[1-9][0-9]{0,19})$")
IF_ID = re.compile(
    r"^(?:(?P<node>[A-Za-z0-9][A-Za-z0-9._-]{0,62})/)?if:(?P<inode>[1-9][0-9]{0,19}):(?P<ifindex>[1-9][0-9]{0,9})$"
)
DIGITS = re.compile(r"^[0-9]{1,3}$")

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ArgsError(ValueError):
    """The args break the contract: ``errors`` is [(field, reason), ...]; nothing was done."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors))

    def as_dict(self) -> dict[str, str]:
        """{field: reason} (the first reason per field), the shape of an API 400."""
        out: dict[str, str] = {}
        for field, reason in self.errors:
            out.setdefault(field, reason)
        return out


@dataclass(frozen=True, slots=True)
class NamespaceRef:
    """A namespace by nsfs inode (graph id) or by /run/netns name; exactly one is set."""

    inode: int | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class InterfaceRef:
    ns_inode: int
    ifindex: int


@dataclass(frozen=True, slots=True)
class End:
    """One end of a new veth pair, in a namespace."""

    namespace: NamespaceRef
    name: str
    address: IPInterface | None = None
    mtu: int = MTU_DEFAULT
    up: bool = False


@dataclass(frozen=True, slots=True)
class BridgeEnd:
    """One end of a new veth pair, made a port of an existing bridge (in the bridge's namespace)."""

    bridge: InterfaceRef
    name: str
    address: IPInterface | None = None
    mtu: int = MTU_DEFAULT
    up: bool = False


@dataclass(frozen=True, slots=True)
class VethCreate:
    a: End
    b: End | BridgeEnd


@dataclass(frozen=True, slots=True)
class LinkMove:
    interface: InterfaceRef
    namespace: NamespaceRef


@dataclass(frozen=True, slots=True)
class LinkDelete:
    interface: InterfaceRef


@dataclass(frozen=True, slots=True)
class LinkSet:
    interface: InterfaceRef
    up: bool | None = None
    mtu: int | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AddressChange:
    interface: InterfaceRef
    address: IPInterface
    add: bool


@dataclass(frozen=True, slots=True)
class BridgeCreate:
    namespace: NamespaceRef
    name: str


@dataclass(frozen=True, slots=True)
class BridgeDelete:
    interface: InterfaceRef


@dataclass(frozen=True, slots=True)
class BridgePort:
    """bridge.attach (bridge required) or bridge.detach (bridge, when given, must be the current one)."""

    interface: InterfaceRef
    bridge: InterfaceRef | None
    attach: bool


@dataclass(frozen=True, slots=True)
class NetnsCreate:
    name: str


@dataclass(frozen=True, slots=True)
class NetnsDelete:
    name: str
    force: bool = False


@dataclass(frozen=True, slots=True)
class Ping:
    namespace: NamespaceRef
    address: IPAddress
    count: int = PING_COUNT[2]
    timeout: int = PING_TIMEOUT[2]


Action = (
    VethCreate
    | LinkMove
    | LinkDelete
    | LinkSet
    | AddressChange
    | BridgeCreate
    | BridgeDelete
    | BridgePort
    | NetnsCreate
    | NetnsDelete
    | Ping
)

T = TypeVar("T")
_MISSING = object()


class _Args:
    """Reads one JSON object's fields, collecting every problem instead of stopping at the first."""

    def __init__(self, data: Any, path: str, node: str | None, errors: list[tuple[str, str]]) -> None:
        self.path = path
        self.node = node
        self.errors = errors
        self.data: Mapping[str, Any] = data if isinstance(data, dict) else {}
        self.ok = isinstance(data, dict)
        if not self.ok:
            self.fail(path, f"must be a JSON object, got {_type(data)}")

    def fail(self, field: str, reason: str) -> None:
        self.errors.append((field, reason))

    def field(self, key: str) -> str:
        return f"{self.path}.{key}"

    def only(self, *keys: str) -> None:
        for key in sorted(set(self.data) - set(keys), key=str):
            self.fail(self.field(str(key)), f"unknown field (allowed: {', '.join(keys)})")

    def get(self, key: str, parse: Callable[[Any, str], T], required: bool = True) -> T | None:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required and self.ok:
                self.fail(self.field(key), "required")
            return None
        try:
            return parse(value, self.node or "")
        except ValueError as exc:
            self.fail(self.field(key), str(exc))
            return None


def _type(value: Any) -> str:
    names: dict[type, str] = {dict: "object", list: "array", str: "string", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def interface_name(value: Any, _node: str = "") -> str:
    """An interface name the kernel takes: 1-15 bytes, no '/', ':', whitespace or control characters, not '.'/'..'."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {_type(value)}")
    size = len(value.encode("utf-8"))
    if size == 0:
        raise ValueError("must not be empty")
    if size >= IFNAMSIZ:
        raise ValueError(f"is {size} bytes; the kernel allows at most {IFNAMSIZ - 1}")
    _check_chars(value, ":")  # net/core/dev.c dev_valid_name also refuses ':' (alias syntax)
    return value


def netns_name(value: Any, _node: str = "") -> str:
    """A /run/netns name: 1-63 bytes, no '/', whitespace or control characters, not '.'/'..'."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {_type(value)}")
    size = len(value.encode("utf-8"))
    if size == 0:
        raise ValueError("must not be empty")
    if size > NETNS_NAME_MAX:
        raise ValueError(f"is {size} bytes; at most {NETNS_NAME_MAX}")
    _check_chars(value, "")
    return value


def _check_chars(value: str, extra: str) -> None:
    if value in (".", ".."):
        raise ValueError(f"{value!r} is not a name")
    for ch in value:
        if ch == "/" or ch in extra:
            raise ValueError(f"must not contain {ch!r}")
        if ch.isspace() or not ch.isprintable():
            raise ValueError(f"must not contain whitespace or control characters ({ch!r})")


def _node_matches(match: re.Match[str], node: str) -> None:
    other = match.group("node")
    if other is not None and node and other != node:
        raise ValueError(f"is on node {other!r}, not {node!r} (a command acts on one host)")


def namespace_ref(value: Any, node: str = "") -> NamespaceRef:
    if not isinstance(value, str):
        raise ValueError(f"must be a graph id like 'h1/ns:4026531840' or a namespace name, got {_type(value)}")
    if len(value) > MAX_REF:
        raise ValueError(f"is {len(value)} characters; too long for a namespace")
    match = NS_ID.match(value)
    if match:
        _node_matches(match, node)
        return NamespaceRef(inode=int(match.group("inode")))
    if "/" in value or value.startswith(("ns:", "if:")):
        raise ValueError(f"{value[:60]!r} is neither a graph id 'NODE/ns:INODE' nor a namespace name")
    try:
        return NamespaceRef(name=netns_name(value))
    except ValueError as exc:
        raise ValueError(f"is not a namespace name: {exc}") from None


def interface_ref(value: Any, node: str = "") -> InterfaceRef:
    if not isinstance(value, str):
        raise ValueError(f"must be a graph id like 'h1/if:4026531840:2', got {_type(value)}")
    match = IF_ID.match(value) if len(value) <= MAX_REF else None
    if not match:
        raise ValueError(f"{value[:60]!r} is not an interface graph id 'NODE/if:NSINODE:IFINDEX'")
    _node_matches(match, node)
    return InterfaceRef(int(match.group("inode")), int(match.group("ifindex")))


def cidr(value: Any, _node: str = "") -> IPInterface:
    """An interface address with an explicit prefix length: '10.1.1.2/24', 'fd00::1/64'."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string like '10.1.1.2/24', got {_type(value)}")
    address, slash, prefix = value.partition("/")
    if not slash:
        raise ValueError(f"{value[:60]!r} has no prefix length (write it as 10.1.1.2/24)")
    if not DIGITS.match(prefix):
        raise ValueError(f"{value[:60]!r}: the prefix length must be a number (no netmask, no spaces)")
    try:
        parsed = ipaddress.ip_interface(f"{_ip(address)}/{int(prefix)}")
    except ValueError as exc:
        raise ValueError(f"{value[:60]!r} is not an address: {exc}") from None
    _usable(parsed.ip, value)
    return parsed


def ip_address(value: Any, _node: str = "") -> IPAddress:
    if not isinstance(value, str):
        raise ValueError(f"must be a string like '10.1.1.3', got {_type(value)}")
    parsed = _ip(value)
    _usable(parsed, value)
    return parsed


def _ip(text: str) -> IPAddress:
    if not text or text != text.strip() or "%" in text:
        raise ValueError(f"{text[:60]!r} is not an IP address (no spaces, no zone)")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text[:60]!r} is not an IPv4 or IPv6 address") from None


def _usable(ip: IPAddress, text: str) -> None:
    if ip.is_unspecified or ip.is_multicast:
        raise ValueError(f"{text[:60]!r} is an unspecified or multicast address")


def mtu(kind: str) -> Callable[[Any, str], int]:
    return bounded(*MTU_LIMITS[kind], f"for a {kind}")


def flag(value: Any, _node: str = "") -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {_type(value)}")
    return value


def bounded(low: int, high: int, unit: str) -> Callable[[Any, str], int]:
    def parse(value: Any, _node: str = "") -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"must be an integer, got {_type(value)}")
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high} {unit}")
        return value

    return parse


def _end(
    data: Any, path: str, node: str, errors: list[tuple[str, str]], bridge_allowed: bool
) -> End | BridgeEnd | None:
    end = _Args(data, path, node, errors)
    on_bridge = bridge_allowed and "bridge" in end.data
    where = "bridge" if on_bridge else "namespace"
    end.only(where, "name", "address", "mtu", "up")
    bridge = end.get("bridge", interface_ref) if on_bridge else None
    namespace = None if on_bridge else end.get("namespace", namespace_ref)
    name = end.get("name", interface_name)
    address = end.get("address", cidr, required=False)
    size = end.get("mtu", mtu("veth"), required=False)
    up = bool(end.get("up", flag, required=False))
    size = MTU_DEFAULT if size is None else size
    if name is None:
        return None
    if bridge is not None:
        return BridgeEnd(bridge, name, address, size, up)
    return End(namespace, name, address, size, up) if namespace is not None else None


def _veth_create(args: _Args) -> VethCreate | None:
    args.only("a", "b")
    a = _end(args.data.get("a"), args.field("a"), args.node or "", args.errors, bridge_allowed=False)
    b = _end(args.data.get("b"), args.field("b"), args.node or "", args.errors, bridge_allowed=True)
    if isinstance(a, End) and isinstance(b, End) and a.namespace == b.namespace and a.name == b.name:
        args.fail(args.field("b.name"), f"both ends are called {a.name!r} in the same namespace")
    if a is None or b is None:
        return None
    assert isinstance(a, End)
    return VethCreate(a=a, b=b)


def _link_move(args: _Args) -> LinkMove | None:
    args.only("interface", "namespace")
    interface, namespace = args.get("interface", interface_ref), args.get("namespace", namespace_ref)
    return LinkMove(interface, namespace) if interface and namespace else None


def _one_interface(args: _Args) -> InterfaceRef | None:
    args.only("interface")
    return args.get("interface", interface_ref)


def _link_set(args: _Args) -> LinkSet | None:
    args.only("interface", "up", "mtu", "name")
    interface = args.get("interface", interface_ref)
    up = args.get("up", flag, required=False)
    size = args.get("mtu", bounded(*MTU_LIMITS["veth"], "bytes"), required=False)
    name = args.get("name", interface_name, required=False)
    if args.ok and not {"up", "mtu", "name"} & set(args.data):
        args.fail(args.path, "nothing to set: give up, mtu or name")
    return LinkSet(interface, up, size, name) if interface else None


def _address(args: _Args, add: bool) -> AddressChange | None:
    """address.add and address.remove. The verb's flag comes with each call (PARSERS' lambdas), not
    from a closure built at import: code that runs only at import is code no test can exercise
    (mutmut changes a function per test run, after the module was imported)."""
    args.only("interface", "address")
    interface, address = args.get("interface", interface_ref), args.get("address", cidr)
    return AddressChange(interface, address, add) if interface and address else None


def _bridge_create(args: _Args) -> BridgeCreate | None:
    args.only("namespace", "name")
    namespace, name = args.get("namespace", namespace_ref), args.get("name", interface_name)
    return BridgeCreate(namespace, name) if namespace and name else None


def _bridge_port(args: _Args, attach: bool) -> BridgePort | None:
    """bridge.attach and bridge.detach (the flag per call, as for _address)."""
    args.only("interface", "bridge")
    interface = args.get("interface", interface_ref)
    bridge = args.get("bridge", interface_ref, required=attach)
    if interface and bridge and interface == bridge:
        args.fail(args.field("bridge"), "an interface cannot be a port of itself")
    return BridgePort(interface, bridge, attach) if interface and (bridge or not attach) else None


def _netns_create(args: _Args) -> NetnsCreate | None:
    args.only("name")
    name = args.get("name", netns_name)
    return NetnsCreate(name) if name else None


def _netns_delete(args: _Args) -> NetnsDelete | None:
    args.only("name", "force")
    name, force = args.get("name", netns_name), args.get("force", flag, required=False)
    return NetnsDelete(name, bool(force)) if name else None


def _ping(args: _Args) -> Ping | None:
    args.only("namespace", "address", "count", "timeout")
    namespace, address = args.get("namespace", namespace_ref), args.get("address", ip_address)
    count = args.get("count", bounded(PING_COUNT[0], PING_COUNT[1], "packets"), required=False)
    timeout = args.get("timeout", bounded(PING_TIMEOUT[0], PING_TIMEOUT[1], "seconds"), required=False)
    if namespace is None or address is None:
        return None
    return Ping(namespace, address, count or PING_COUNT[2], timeout or PING_TIMEOUT[2])


PARSERS: Mapping[str, Callable[[_Args], Action | None]] = {
    "veth.create": _veth_create,
    "link.move": _link_move,
    "link.delete": lambda a: LinkDelete(i) if (i := _one_interface(a)) else None,
    "link.set": _link_set,
    "address.add": lambda a: _address(a, add=True),
    "address.remove": lambda a: _address(a, add=False),
    "bridge.create": _bridge_create,
    "bridge.delete": lambda a: BridgeDelete(i) if (i := _one_interface(a)) else None,
    "bridge.attach": lambda a: _bridge_port(a, attach=True),
    "bridge.detach": lambda a: _bridge_port(a, attach=False),
    "netns.create": _netns_create,
    "netns.delete": _netns_delete,
    "ping": _ping,
}
VERBS = tuple(PARSERS)


def parse_args(verb: Any, args: Any, node: str = "") -> Action:
    """The verb's args as a typed action, or ArgsError naming every bad field.

    ``node``: this host's name; graph ids naming another node are refused (empty: not checked).
    """
    if not isinstance(verb, str) or verb not in PARSERS:
        raise ArgsError([("verb", f"unknown verb {str(verb)[:40]!r}; known: {', '.join(VERBS)}")])
    errors: list[tuple[str, str]] = []
    action = PARSERS[verb](_Args(args, "args", node, errors))
    if errors or action is None:
        raise ArgsError(errors or [("args", "incomplete")])
    return action
