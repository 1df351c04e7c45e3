"""The lab verbs against the kernel with pyroute2: check everything first, then act, undo on failure.

One module, though long: every verb goes through the same checks (ownership, uplinks, free names,
MTU limits), the same helper thread and the same undo; the verbs themselves are short.

Each verb runs in two phases. The first only reads: it resolves the namespaces and interfaces
the args name, and refuses (ActionRefused, nothing changed) what this module never touches:
- the host's uplinks: lo, any interface without a link kind (a physical or unknown device),
  and in the root namespace every interface carrying a default route or backed by a device
  (/sys/class/net/X/device);
- moving, renaming or deleting an interface nsmap did not create. nsmap marks what it creates
  with the interface alias ``nsmap:<command id>`` (IFLA_IFALIAS: it survives a move and a
  rename, shows in `ip link` as "alias", and names the command that made it). The per-host
  setting NSMAP_AGENT_ALLOW_FOREIGN (comma-separated interface names) lists the exceptions;
- names already taken in the target namespace, MTUs outside the interface's own limits.
The second phase changes the kernel step by step and, when a step fails, undoes the steps
before it (ActionFailed says what failed and whether the undo worked).

pyroute2 is not thread-safe and opening a socket in another namespace forks a helper, so every
verb runs on ONE helper thread (``Actions``) that keeps an IPRoute per namespace open.
A new veth pair is born with its names and MTUs, each end in its target namespace (the peer by
IFLA_NET_NS_FD, not created in root and moved: a move costs about 20 ms per end; the kernel
creates both ends or neither, so a name taken meanwhile fails the command cleanly), then it is
marked, configured and brought up there; on any failure what is ours of it is deleted
(docs/ARCHITECTURE.md, "A new veth pair is born where it belongs"). The page draws it as asked
from its first patch; the change log ties that appearance to the command by the names it gives
(webui.commands.service).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from pyroute2 import IPRoute, NetlinkError
from pyroute2 import netns as pyroute2_netns

from agent import namespaces
from agent.env import read_list
from agent.protocol import interface_key, namespace_key
from agent.verbs import (
    MARK,
    Action,
    AddressChange,
    BridgeCreate,
    BridgeDelete,
    BridgeEnd,
    BridgePort,
    End,
    InterfaceRef,
    IPAddress,
    IPInterface,
    LinkDelete,
    LinkMove,
    LinkSet,
    NamespaceRef,
    NetnsCreate,
    NetnsDelete,
    Ping,
    VethCreate,
    interface_name,
)

NETNS_DIR = "/run/netns"
OPEN_SOCKETS = 16
IDLE_SECONDS = 1.0  # sockets into other namespaces are closed this long after the last command
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
ALLOW_FOREIGN_ENV = "NSMAP_AGENT_ALLOW_FOREIGN"


class ActionRefused(Exception):
    """Refused before anything changed; ``field`` names the argument at fault (or None)."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class ActionFailed(Exception):
    """The kernel refused a step; what had been done was undone (``undone``) or could not be."""

    def __init__(self, reason: str, undone: bool) -> None:
        self.reason = reason
        self.undone = undone
        suffix = "; what was done before it was undone" if undone else "; UNDO FAILED, check the host"
        super().__init__(reason + suffix)


@dataclass(frozen=True, slots=True)
class Policy:
    """Per-host rules: interfaces nsmap may move, rename or delete although it did not create them."""

    allow_foreign: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Policy:
        names = read_list(os.environ if env is None else env, ALLOW_FOREIGN_ENV, [])
        for name in names:
            try:
                interface_name(name)
            except ValueError as exc:
                raise ValueError(f"{ALLOW_FOREIGN_ENV}: {name!r} {exc}") from None
        return cls(frozenset(names))


@dataclass(slots=True)
class Namespace:
    inode: int
    path: str  # opens it; "" for the agent's own (root) namespace
    label: str

    @property
    def is_root(self) -> bool:
        return self.path == ""


@dataclass(slots=True)
class Link:
    ns: Namespace
    index: int
    name: str
    kind: str | None
    alias: str | None
    flags: int
    mtu: int
    min_mtu: int
    max_mtu: int
    master: int
    peer_index: int

    @property
    def owned(self) -> bool:
        return bool(self.alias and self.alias.startswith(MARK))

    @property
    def up(self) -> bool:
        return bool(self.flags & IFF_UP)


def mark(command_id: str) -> str:
    return f"{MARK}{command_id}"


def _errno_text(exc: NetlinkError) -> str:
    code = int(exc.code)
    return os.strerror(code) if code > 0 else str(exc)


@contextmanager
def _ns_fd(ns: Namespace) -> Iterator[int]:
    """An fd of ``ns`` for IFLA_NET_NS_FD, open only for the request that names it."""
    fd = os.open(ns.path or "/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


class Kernel:
    """IPRoute sockets, one per namespace, used from a single thread only (see Actions)."""

    def __init__(self, node: str = "") -> None:
        self.node = node
        self.sockets: OrderedDict[int, IPRoute] = OrderedDict()
        self.used: dict[int, float] = {}
        self.root_inode = os.stat("/proc/self/ns/net").st_ino
        # what one command reads more than once (every /proc walk, the root's routes): read once
        # per command, since another may have changed it (Executor.run forgets it)
        self.found: dict[int, Namespace] | None = None
        self.default_routes: set[int] | None = None

    def new_command(self) -> None:
        self.found = None
        self.default_routes = None

    def close(self) -> None:
        while self.sockets:
            self.sockets.popitem()[1].close()

    def close_idle(self, idle_seconds: float) -> None:
        """Close the sockets into other namespaces unused for ``idle_seconds``.

        An open socket holds its namespace: one deleted meanwhile by someone else would live on,
        and with it the veth ends whose peers should have vanished with it.
        """
        now = time.monotonic()
        for inode in [i for i in self.sockets if i != self.root_inode and now - self.used.get(i, 0.0) >= idle_seconds]:
            self.forget(inode)

    def forget(self, inode: int) -> None:
        """Close the socket into a namespace (it would keep a deleted namespace alive)."""
        ipr = self.sockets.pop(inode, None)
        self.used.pop(inode, None)
        if ipr is not None:
            ipr.close()

    def ipr(self, ns: Namespace) -> IPRoute:
        ipr = self.sockets.get(ns.inode)
        if ipr is None:
            # flags=0: pyroute2 would otherwise create a missing namespace (docs/ARCHITECTURE.md)
            ipr = IPRoute() if ns.is_root else IPRoute(netns=ns.path, flags=0)
            self.sockets[ns.inode] = ipr
            while len(self.sockets) > OPEN_SOCKETS:
                self.forget(next(iter(self.sockets)))
        else:
            self.sockets.move_to_end(ns.inode)
        self.used[ns.inode] = time.monotonic()
        return ipr

    # ids the graph uses (agent/protocol.py keys, prefixed with the node like the server does)

    def ns_id(self, ns: Namespace) -> str:
        key = namespace_key(ns.inode)
        return f"{self.node}/{key}" if self.node else key

    def if_id(self, ns: Namespace, index: int) -> str:
        key = interface_key(ns.inode, index)
        return f"{self.node}/{key}" if self.node else key

    # resolving references (read only)

    def namespace(self, ref: NamespaceRef, field: str) -> Namespace:
        if ref.name is not None:
            path = os.path.join(NETNS_DIR, ref.name)
            st = namespaces.is_namespace_file(path, namespaces.nsfs_dev())
            if st is None:
                raise ActionRefused(field, f"there is no named namespace {ref.name!r} on this host")
            if st.st_ino == self.root_inode:
                return Namespace(self.root_inode, "", "root")
            return Namespace(st.st_ino, path, ref.name)
        if ref.inode == self.root_inode:
            return Namespace(self.root_inode, "", "root")
        if self.found is None:
            self.found = {}
            for found in namespaces.find_namespaces([], []):
                label = found.names[0] if found.names else f"pid {found.pids[0]}" if found.pids else found.path
                self.found.setdefault(found.inode, Namespace(found.inode, found.path, label))
        ns = self.found.get(ref.inode or 0)  # one of name and inode is set (verbs.NamespaceRef)
        if ns is None:
            raise ActionRefused(field, f"there is no namespace ns:{ref.inode} on this host")
        return ns

    def link(self, ns: Namespace, index: int, field: str) -> Link:
        try:
            msg = self.ipr(ns).get_links(index)[0]
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                raise ActionRefused(field, f"there is no interface with index {index} in {ns.label}") from None
            raise
        return self.parse_link(ns, msg)

    def link_by_name(self, ns: Namespace, name: str) -> Link | None:
        try:
            msgs = self.ipr(ns).link("get", ifname=name)  # also matches altnames, as the kernel's own check does
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return None
            raise
        return self.parse_link(ns, msgs[0])

    def interface(self, ref: InterfaceRef, field: str) -> Link:
        ns = self.namespace(NamespaceRef(inode=ref.ns_inode), field)
        return self.link(ns, ref.ifindex, field)

    @staticmethod
    def parse_link(ns: Namespace, msg: Any) -> Link:
        return Link(
            ns=ns,
            index=int(msg["index"]),
            name=str(msg.get("ifname")),
            kind=msg.get(("linkinfo", "kind")),
            alias=msg.get("ifalias"),
            flags=int(msg["flags"]),
            mtu=int(msg.get("mtu") or 0),
            min_mtu=int(msg.get("min_mtu") or 0),
            max_mtu=int(msg.get("max_mtu") or 0),
            master=int(msg.get("master") or 0),
            peer_index=int(msg.get("link") or 0),
        )

    def default_route_devices(self) -> set[int]:
        """ifindexes in the root namespace that carry a default route (any table, v4 or v6)."""
        if self.default_routes is not None:
            return self.default_routes
        root = self.ipr(Namespace(self.root_inode, "", "root"))
        out: set[int] = set()
        for family in (socket.AF_INET, socket.AF_INET6):
            for route in root.route("dump", family=family):
                if route["dst_len"] != 0:
                    continue
                if route.get("oif"):
                    out.add(int(route.get("oif")))
                for hop in route.get("multipath") or []:
                    out.add(int(hop["oif"]))
        self.default_routes = out
        return out

    def addresses(self, link: Link) -> list[str]:
        return [
            f"{msg.get('address')}/{msg['prefixlen']}"
            for msg in self.ipr(link.ns).get_addr(index=link.index)
            if msg.get("address") and not str(msg.get("address")).startswith("fe80:")
        ]


class Executor:
    """The verbs; runs on the helper thread only (Actions makes sure)."""

    def __init__(self, kernel: Kernel, policy: Policy) -> None:
        self.k = kernel
        self.policy = policy

    # guards (phase one: they only read)

    def not_uplink(self, link: Link, field: str) -> None:
        if link.flags & IFF_LOOPBACK or link.name == "lo":
            raise ActionRefused(field, f"{link.name} is the loopback interface; nsmap never touches it")
        if link.kind is None:
            raise ActionRefused(field, f"{link.name} is a device, not a virtual link; nsmap never touches it")
        if link.ns.is_root:
            if os.path.exists(f"/sys/class/net/{link.name}/device"):
                raise ActionRefused(field, f"{link.name} is a physical device of the host; nsmap never touches it")
            if link.index in self.k.default_route_devices():
                raise ActionRefused(field, f"{link.name} carries the host's default route; nsmap never touches it")

    def owned(self, link: Link, field: str, what: str) -> None:
        if link.owned or link.name in self.policy.allow_foreign:
            return
        raise ActionRefused(
            field,
            f"nsmap did not create {link.name} in {link.ns.label} (it has no '{MARK}' alias), so it will not {what} "
            f"it; list it in {ALLOW_FOREIGN_ENV} on this host to allow that",
        )

    def name_free(self, ns: Namespace, name: str, field: str) -> None:
        taken = self.k.link_by_name(ns, name)
        if taken is not None:
            raise ActionRefused(field, f"the name {name!r} is taken in {ns.label} (ifindex {taken.index})")

    def managed(self, ref: InterfaceRef, field: str) -> Link:
        link = self.k.interface(ref, field)
        self.not_uplink(link, field)
        return link

    def bridge(self, ref: InterfaceRef, field: str) -> Link:
        """A bridge that may get or lose ports: a port on the host's uplink bridge joins its LAN."""
        bridge = self.k.interface(ref, field)
        if bridge.kind != "bridge":
            raise ActionRefused(field, f"{bridge.name} is a {bridge.kind or 'device'}, not a bridge")
        self.not_uplink(bridge, field)
        return bridge

    # verbs

    def run(self, action: Action, command_id: str) -> dict[str, Any]:
        handlers: dict[type, Callable[[Any, str], dict[str, Any]]] = {
            VethCreate: self.veth_create,
            LinkMove: self.link_move,
            LinkDelete: self.link_delete,
            LinkSet: self.link_set,
            AddressChange: self.address_change,
            BridgeCreate: self.bridge_create,
            BridgeDelete: self.bridge_delete,
            BridgePort: self.bridge_port,
            NetnsCreate: self.netns_create,
            NetnsDelete: self.netns_delete,
            Ping: self.ping,
        }
        self.k.new_command()
        return handlers[type(action)](action, command_id)

    def veth_create(self, action: VethCreate, command_id: str) -> dict[str, Any]:
        a_ns = self.k.namespace(action.a.namespace, "args.a.namespace")
        bridge: Link | None = None
        if isinstance(action.b, BridgeEnd):
            bridge = self.bridge(action.b.bridge, "args.b.bridge")
            b_ns = bridge.ns
        else:
            b_ns = self.k.namespace(action.b.namespace, "args.b.namespace")
        if a_ns.inode == b_ns.inode and action.a.name == action.b.name:
            raise ActionRefused("args.b.name", f"both ends are called {action.a.name!r} in {a_ns.label}")
        self.name_free(a_ns, action.a.name, "args.a.name")
        self.name_free(b_ns, action.b.name, "args.b.name")

        try:
            self._create_pair(a_ns, action.a, b_ns, action.b)
        except NetlinkError as exc:  # the kernel makes both ends or neither
            raise ActionFailed(f"the kernel refused to create the pair: {_errno_text(exc)}", True) from None
        except OSError as exc:  # b's namespace could not be opened: nothing was asked of the kernel
            raise ActionFailed(f"could not open {b_ns.label}: {exc}", True) from None
        try:
            made = {"a": (a_ns, self._index(a_ns, action.a.name)), "b": (b_ns, self._index(b_ns, action.b.name))}
            ends: dict[str, Any] = {}
            for key, end in (("a", action.a), ("b", action.b)):
                ns, index = made[key]
                change: dict[str, Any] = {"ifalias": mark(command_id)}
                if bridge is not None and key == "b":
                    change["master"] = bridge.index
                self.k.ipr(ns).link("set", index=index, **change)
                if end.address is not None:
                    self._addr(ns, index, end.address, add=True)
                ends[key] = {
                    "interface": self.k.if_id(ns, index),
                    "namespace": self.k.ns_id(ns),
                    "name": end.name,
                    "address": str(end.address) if end.address else None,
                    "mtu": end.mtu,
                    "up": end.up,
                }
            for key, end in (("a", action.a), ("b", action.b)):  # both configured before either comes up
                if end.up:
                    ns, index = made[key]
                    self.k.ipr(ns).link("set", index=index, state="up")
            if bridge is not None:
                ends["b"]["bridge"] = self.k.if_id(bridge.ns, bridge.index)
            return ends
        except Exception as exc:  # whatever broke, the pair must not stay half made
            undone = self.undo_pair((a_ns, action.a.name), (b_ns, action.b.name), command_id)
            reason = _errno_text(exc) if isinstance(exc, NetlinkError) else str(exc)
            raise ActionFailed(f"the kernel refused a step of veth.create: {reason}", undone) from None

    def undo_pair(self, a: tuple[Namespace, str], b: tuple[Namespace, str], command_id: str) -> bool:
        """Delete the pair ``command_id`` made as ``a`` - ``b`` (namespace, name); True when it is gone.

        Found by the names it was given, since a step may fail before an index was read: an end
        is deleted (taking its peer) only while it is a veth that is this command's, marked by it
        or, before the mark, unmarked and paired with the other name given. Anything else now
        carrying a name is someone else's and stays: then the undo is reported failed.
        """
        mine = mark(command_id)
        try:
            for (ns, name), (peer_ns, peer_name) in ((a, b), (b, a)):
                end = self.k.link_by_name(ns, name)
                if end is None:
                    continue  # gone, or never made: the other end tells
                if end.kind != "veth":
                    return False
                if end.alias != mine:
                    peer = None if end.alias else self.k.link_by_name(peer_ns, peer_name)
                    if peer is None or (peer.index, peer.peer_index) != (end.peer_index, end.index):
                        return False
                self.k.ipr(ns).link("del", index=end.index)
                return True
            return True
        except NetlinkError as exc:
            return bool(exc.code == errno.ENODEV)  # gone meanwhile

    def _delete_made(self, ns: Namespace, index: int, name: str) -> bool:
        """Delete what this command made, by index and only while it carries the name it was given
        (anything else is someone else's); True when it is gone."""
        try:
            link = self.k.link(ns, index, "")
        except ActionRefused:
            return True  # gone already (with its peer)
        except NetlinkError:
            return False
        if link.name != name:
            return False
        try:
            self.k.ipr(ns).link("del", index=index)
            return True
        except NetlinkError as exc:
            return bool(exc.code == errno.ENODEV)

    def _create_pair(self, a_ns: Namespace, a: End, b_ns: Namespace, b: End | BridgeEnd) -> None:
        """The pair with its names and MTUs, each end born in its target namespace (the peer by
        IFLA_NET_NS_FD): no namespace moves, at about 20 ms each (bench/actions.py)."""
        peer: dict[str, Any] = {"ifname": b.name, "mtu": b.mtu}
        with ExitStack() as stack:
            if b_ns.inode != a_ns.inode:
                peer["net_ns_fd"] = stack.enter_context(_ns_fd(b_ns))
            self.k.ipr(a_ns).link("add", ifname=a.name, kind="veth", mtu=a.mtu, peer=peer)

    def _index(self, ns: Namespace, name: str) -> int:
        found = self.k.link_by_name(ns, name)
        if found is None:
            raise NetlinkError(errno.ENODEV, f"{name} vanished from {ns.label}")
        return found.index

    def _move(self, src: Namespace, index: int, dst: Namespace) -> None:
        with _ns_fd(dst) as fd:
            self.k.ipr(src).link("set", index=index, net_ns_fd=fd)

    def _addr(self, ns: Namespace, index: int, address: IPInterface, add: bool) -> None:
        self.k.ipr(ns).addr(
            "add" if add else "del", index=index, address=str(address.ip), prefixlen=address.network.prefixlen
        )

    def link_move(self, action: LinkMove, command_id: str) -> dict[str, Any]:
        link = self.managed(action.interface, "args.interface")
        self.owned(link, "args.interface", "move")
        target = self.k.namespace(action.namespace, "args.namespace")
        if target.inode == link.ns.inode:
            raise ActionRefused("args.namespace", f"{link.name} is already in {target.label}")
        self.name_free(target, link.name, "args.namespace")
        dropped = self.k.addresses(link)
        try:
            self._move(link.ns, link.index, target)
        except NetlinkError as exc:
            raise ActionFailed(f"the kernel refused to move {link.name}: {_errno_text(exc)}", True) from None
        moved = self._index(target, link.name)
        return {
            "interface": self.k.if_id(target, moved),
            "namespace": self.k.ns_id(target),
            "name": link.name,
            "dropped_addresses": dropped,  # the kernel drops them on a move: offer to re-apply
        }

    def link_delete(self, action: LinkDelete, command_id: str) -> dict[str, Any]:
        link = self.managed(action.interface, "args.interface")
        if link.kind == "bridge":
            raise ActionRefused("args.interface", f"{link.name} is a bridge: use bridge.delete")
        self.owned(link, "args.interface", "delete")
        return self._delete(link)

    def _delete(self, link: Link) -> dict[str, Any]:
        try:
            self.k.ipr(link.ns).link("del", index=link.index)
        except NetlinkError as exc:
            raise ActionFailed(f"the kernel refused to delete {link.name}: {_errno_text(exc)}", True) from None
        result: dict[str, Any] = {"deleted": self.k.if_id(link.ns, link.index), "name": link.name, "kind": link.kind}
        if link.kind == "veth":
            result["peer_ifindex"] = link.peer_index  # the kernel deleted the peer too
        return result

    def link_set(self, action: LinkSet, command_id: str) -> dict[str, Any]:
        link = self.managed(action.interface, "args.interface")
        if action.name is not None and action.name != link.name:
            self.owned(link, "args.name", "rename")
            self.name_free(link.ns, action.name, "args.name")
        if action.mtu is not None and link.max_mtu and not link.min_mtu <= action.mtu <= link.max_mtu:
            raise ActionRefused("args.mtu", f"{action.mtu} is outside {link.min_mtu}..{link.max_mtu} for {link.name}")
        ipr = self.k.ipr(link.ns)
        undo: list[dict[str, Any]] = []
        try:
            if action.name is not None and action.name != link.name:
                ipr.link("set", index=link.index, ifname=action.name)
                undo.append({"ifname": link.name})
            if action.mtu is not None and action.mtu != link.mtu:
                ipr.link("set", index=link.index, mtu=action.mtu)
                undo.append({"mtu": link.mtu})
            if action.up is not None and action.up != link.up:
                ipr.link("set", index=link.index, state="up" if action.up else "down")
        except NetlinkError as exc:
            undone = True
            for step in reversed(undo):
                try:
                    ipr.link("set", index=link.index, **step)
                except NetlinkError:
                    undone = False
            raise ActionFailed(f"the kernel refused to change {link.name}: {_errno_text(exc)}", undone) from None
        now = self.k.link(link.ns, link.index, "args.interface")
        return {"interface": self.k.if_id(now.ns, now.index), "name": now.name, "mtu": now.mtu, "up": now.up}

    def address_change(self, action: AddressChange, command_id: str) -> dict[str, Any]:
        link = self.managed(action.interface, "args.interface")
        present = str(action.address) in self.k.addresses(link)
        if action.add and present:
            raise ActionRefused("args.address", f"{link.name} already has {action.address}")
        if not action.add and not present:
            raise ActionRefused("args.address", f"{link.name} has no address {action.address}")
        try:
            self._addr(link.ns, link.index, action.address, action.add)
        except NetlinkError as exc:
            verb = "add" if action.add else "remove"
            raise ActionFailed(f"the kernel refused to {verb} {action.address}: {_errno_text(exc)}", True) from None
        return {"interface": self.k.if_id(link.ns, link.index), "addresses": self.k.addresses(link)}

    def bridge_create(self, action: BridgeCreate, command_id: str) -> dict[str, Any]:
        ns = self.k.namespace(action.namespace, "args.namespace")
        self.name_free(ns, action.name, "args.name")
        ipr = self.k.ipr(ns)
        try:
            ipr.link("add", ifname=action.name, kind="bridge")
        except NetlinkError as exc:
            raise ActionFailed(f"the kernel refused to create bridge {action.name}: {_errno_text(exc)}", True) from None
        try:
            index = self._index(ns, action.name)
        except NetlinkError as exc:  # no index, nothing to delete safely: by name it could be another's
            gone = exc.code == errno.ENODEV
            raise ActionFailed(f"could not find bridge {action.name} just made: {_errno_text(exc)}", gone) from None
        try:
            ipr.link("set", index=index, ifalias=mark(command_id))
        except NetlinkError as exc:
            undone = self._delete_made(ns, index, action.name)
            raise ActionFailed(f"could not mark bridge {action.name}: {_errno_text(exc)}", undone) from None
        return {"interface": self.k.if_id(ns, index), "namespace": self.k.ns_id(ns), "name": action.name}

    def bridge_delete(self, action: BridgeDelete, command_id: str) -> dict[str, Any]:
        link = self.managed(action.interface, "args.interface")
        if link.kind != "bridge":
            raise ActionRefused("args.interface", f"{link.name} is a {link.kind}, not a bridge")
        self.owned(link, "args.interface", "delete")
        return self._delete(link)

    def bridge_port(self, action: BridgePort, command_id: str) -> dict[str, Any]:
        link = self.managed(action.interface, "args.interface")
        if link.master:  # leaving the host's uplink bridge changes that bridge as much as joining it
            self.not_uplink(self.k.link(link.ns, link.master, "args.interface"), "args.interface")
        bridge: Link | None = None
        if action.bridge is not None:
            bridge = self.bridge(action.bridge, "args.bridge")
            if bridge.ns.inode != link.ns.inode:
                raise ActionRefused(
                    "args.bridge", f"{bridge.name} is in {bridge.ns.label}, {link.name} in {link.ns.label}"
                )
        if action.attach:
            assert bridge is not None  # verbs.py requires it for attach
            if link.master:
                raise ActionRefused("args.interface", f"{link.name} is already a port (master ifindex {link.master})")
            master = bridge.index
        else:
            if not link.master:
                raise ActionRefused("args.interface", f"{link.name} is not a port of any bridge")
            if bridge is not None and bridge.index != link.master:
                raise ActionRefused("args.bridge", f"{link.name} is not a port of {bridge.name}")
            master = 0
        try:
            self.k.ipr(link.ns).link("set", index=link.index, master=master)
        except NetlinkError as exc:
            raise ActionFailed(f"the kernel refused to change {link.name}'s bridge: {_errno_text(exc)}", True) from None
        return {
            "interface": self.k.if_id(link.ns, link.index),
            "bridge": self.k.if_id(link.ns, master) if master else None,
        }

    def netns_create(self, action: NetnsCreate, command_id: str) -> dict[str, Any]:
        path = os.path.join(NETNS_DIR, action.name)
        if os.path.lexists(path):
            raise ActionRefused("args.name", f"{path} exists already")
        try:
            pyroute2_netns.create(action.name)
        except OSError as exc:
            if os.path.lexists(path):
                pyroute2_netns.remove(action.name)
            raise ActionFailed(f"could not create namespace {action.name}: {exc}", not os.path.lexists(path)) from None
        inode = os.stat(path).st_ino
        return {"namespace": self.k.ns_id(Namespace(inode, path, action.name)), "name": action.name}

    def netns_delete(self, action: NetnsDelete, command_id: str) -> dict[str, Any]:
        ns = self.k.namespace(NamespaceRef(name=action.name), "args.name")
        if ns.is_root:
            raise ActionRefused("args.name", f"{action.name} is the host's own namespace")
        pids = namespaces.pids_by_namespace().get(ns.inode, [])
        foreign = [
            link.name
            for link in (self.k.parse_link(ns, msg) for msg in self.k.ipr(ns).get_links())
            if not (link.flags & IFF_LOOPBACK) and not link.owned and link.name not in self.policy.allow_foreign
        ]
        if not action.force:
            if pids:
                shown = ", ".join(map(str, pids[:5]))
                raise ActionRefused("args.name", f"processes still run in {action.name} (pid {shown}); force to delete")
            if foreign:
                raise ActionRefused(
                    "args.name",
                    f"{action.name} holds interfaces nsmap did not create ({', '.join(foreign)}); force to delete",
                )
        self.k.forget(ns.inode)
        pyroute2_netns.remove(action.name)
        return {"deleted": self.k.ns_id(ns), "name": action.name, "forced_over": {"pids": pids, "interfaces": foreign}}

    def _route(self, ns: Namespace, address: IPAddress) -> tuple[str | None, str | None]:
        """The interface (graph id) and gateway by which ``ns`` sends to ``address``, as its kernel
        answers (the page draws the ping on that link instead of guessing it from addresses);
        (None, None) when it has no route there."""
        try:
            route = self.k.ipr(ns).route("get", dst=str(address))[0]
        except NetlinkError:
            return None, None
        oif = route.get("oif")
        return (self.k.if_id(ns, int(oif)) if oif else None), route.get("gateway")

    def ping(self, action: Ping, command_id: str) -> dict[str, Any]:
        ns = self.k.namespace(action.namespace, "args.namespace")
        binary = shutil.which("ping")
        argv = [binary] if binary else [shutil.which("busybox") or "busybox", "ping"]
        argv += ["-6" if action.address.version == 6 else "-4", "-q", "-c", str(action.count)]
        argv += ["-w", str(action.timeout), str(action.address)]
        if not ns.is_root:
            argv = [shutil.which("nsenter") or "nsenter", f"--net={ns.path}", "--", *argv]
        interface, via = self._route(ns, action.address)
        started = time.monotonic()
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=action.timeout + 5, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ActionFailed(f"ping could not run: {exc}", True) from None
        result = parse_ping(proc.stdout)
        if result is None:
            raise ActionFailed(f"ping gave no summary: {(proc.stderr or proc.stdout).strip()[:200]}", True)
        result["namespace"] = self.k.ns_id(ns)
        result["address"] = str(action.address)
        result["interface"] = interface
        result["via"] = via
        result["seconds"] = round(time.monotonic() - started, 3)
        return result


SENT = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
RTT = re.compile(r"(?:rtt|round-trip) min/avg/max(?:/mdev)? = ([\d.]+)/([\d.]+)/([\d.]+)")


def parse_ping(text: str) -> dict[str, Any] | None:
    """{"sent", "received", "loss" (percent), "rtt_ms": {"min", "avg", "max"} or None} from iputils'
    or busybox's summary; None when there is none."""
    sent = SENT.search(text)
    if not sent:
        return None
    count, received = int(sent.group(1)), int(sent.group(2))
    rtt = RTT.search(text)
    return {
        "sent": count,
        "received": received,
        "loss": round(100.0 * (count - received) / count, 1) if count else 100.0,
        "rtt_ms": {"min": float(rtt.group(1)), "avg": float(rtt.group(2)), "max": float(rtt.group(3))} if rtt else None,
    }


class Actions:
    """The one helper thread all verbs run on; its sockets stay open while commands keep coming."""

    def __init__(self, node: str = "", policy: Policy | None = None, idle_seconds: float = IDLE_SECONDS) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nsmap-actions")
        self.node = node
        self.policy = policy or Policy()
        self.idle_seconds = idle_seconds
        self._executor: Executor | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def _on_thread(self, action: Action, command_id: str) -> dict[str, Any]:
        if self._executor is None:
            self._executor = Executor(Kernel(self.node), self.policy)
        return self._executor.run(action, command_id)

    def _close_idle(self) -> None:
        if self._executor is not None:
            self._executor.k.close_idle(self.idle_seconds)

    def run(self, action: Action, command_id: str) -> dict[str, Any]:
        """Execute on the helper thread; raises ActionRefused / ActionFailed with the reason."""
        try:
            return self.pool.submit(self._on_thread, action, command_id).result()
        finally:
            self._arm()

    def _arm(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.idle_seconds, self._submit_close_idle)
            self._timer.daemon = True
            self._timer.start()

    def _submit_close_idle(self) -> None:
        with suppress(RuntimeError):  # shut down meanwhile
            self.pool.submit(self._close_idle)

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()

        def shut() -> None:
            if self._executor is not None:
                self._executor.k.close()

        self.pool.submit(shut).result()
        self.pool.shutdown(wait=True)


@contextmanager
def actions(node: str = "", policy: Policy | None = None) -> Iterator[Actions]:
    helper = Actions(node, policy)
    try:
        yield helper
    finally:
        helper.close()
