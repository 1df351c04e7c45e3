"""Full inventory of one host: namespaces, links, addresses and exact veth peers.

One netlink socket in the agent's namespace observes everything: every namespace gets an id in
the root namespace and is dumped by that id (no setns, no fork, no `ip`). The fd of each
namespace stays open while it is looked up and dumped, so the namespace (and its id) cannot
vanish under the dump. This is the code path of both `python -m agent scan` and the live agent.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agent import namespaces as ns_places
from agent.holders import HiddenFinder, open_holder
from agent.netlink import MAX_BATCH, MalformedMessage, NetlinkError, RtnlSocket
from agent.owners import OwnerResolver, resolver_from_settings
from agent.peers import ObservedNamespace, assemble_interfaces
from agent.protocol import Inventory, Namespace, NamespaceKind

KIND_ORDER = {"root": 0, "named": 1, "docker": 2, "mount": 3, "process": 4, "fd": 5, "socket": 6}
PRIVILEGE_HINT = "run as root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to see every namespace"


def scan_order(place: ns_places.Found | Namespace) -> tuple[int, list[str], int]:
    """Sort key of a scan's namespaces: root, named, docker, mount, process, fd, socket; then
    first name, inode."""
    return (KIND_ORDER[place.kind], place.names[:1], place.inode)


@dataclass(slots=True)
class IdsAndPaths:
    """What one pass over the host learns besides the dumps: root's nsid -> namespace inode map
    and the path each namespace was opened by."""

    inode_by_nsid: dict[int, int] = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)

    def add(self, place: ns_places.Found, observed: ObservedNamespace) -> int | None:
        """Record one namespace read; returns an earlier one of this pass whose dump must be
        dropped: its id turning up again means it died after its dump and the id was reused."""
        self.paths[place.inode] = place.path
        nsid = observed.record.nsid
        if nsid is None:
            return None
        dead = self.inode_by_nsid.get(nsid)
        self.inode_by_nsid[nsid] = place.inode
        return dead


class Discoverer:
    """Keeps its netlink socket: the live agent asks every question through this one."""

    def __init__(
        self,
        node: str | None = None,
        named_dirs: Iterable[tuple[str, NamespaceKind]] = ns_places.NAMED_DIRS,
        owners: OwnerResolver | None = None,
    ) -> None:
        self.node = node or socket.gethostname()
        self.named_dirs = tuple(named_dirs)
        self.owners = owners if owners is not None else resolver_from_settings()
        self.hidden = HiddenFinder()
        self.rtnl = RtnlSocket()

    def close(self) -> None:
        self.rtnl.close()
        self.hidden.close()

    def __enter__(self) -> Discoverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(self) -> Inventory:
        return self.scan_observed()[0]

    def find(self, errors: list[str], gaps: list[str]) -> list[ns_places.Found]:
        """Every namespace on the host now (unsorted); owners of vanished ones are forgotten."""
        found = ns_places.find_namespaces(errors, gaps, self.named_dirs, self.hidden)
        self.owners.forget({place.inode for place in found})
        return found

    def record(self, place: ns_places.Found, nsid: int | None, errors: list[str]) -> Namespace:
        """The protocol record of a found namespace, with its owner (cached, see agent/owners.py)."""
        return ns_places.to_record(place, nsid, self.owners, errors)

    def scan_observed(self) -> tuple[Inventory, list[ObservedNamespace], dict[int, int], dict[int, str]]:
        """The inventory, with what it was made of: the raw per-namespace dumps, root's
        nsid -> namespace inode map, and the path each namespace was opened by."""
        with collector_paused():
            return self._scan_observed()

    def _scan_observed(self) -> tuple[Inventory, list[ObservedNamespace], dict[int, int], dict[int, str]]:
        errors: list[str] = []
        gaps: list[str] = []
        denied: list[str] = []
        observed: dict[int, ObservedNamespace] = {}
        ids = IdsAndPaths()
        places = sorted(self.find(errors, gaps), key=scan_order)
        for place, result in zip(places, self.observe_all(places, denied, errors), strict=True):
            if result is None:
                continue
            dead = ids.add(place, result)
            if dead is not None:
                del observed[dead]
            observed[place.inode] = result
        root = next((o for o in observed.values() if o.record.kind == "root"), None)
        self.add_root_id(ids, root.record.inode if root is not None else None)
        namespaces = list(observed.values())
        inventory = Inventory(
            node=self.node,
            namespaces=[o.record for o in namespaces],
            interfaces=assemble_interfaces(namespaces, ids.inode_by_nsid),
            errors=errors + gaps + report_denied(denied),
            complete=not gaps and not denied,
        )
        return inventory, namespaces, ids.inode_by_nsid, ids.paths

    def observe(self, place: ns_places.Found, denied: list[str], errors: list[str]) -> ObservedNamespace | None:
        """Dump one namespace; None when it vanished before it could be read."""
        return self.observe_all([place], denied, errors)[0]

    def observe_all(
        self, places: list[ns_places.Found], denied: list[str], errors: list[str], decode: bool = True
    ) -> list[ObservedNamespace | None]:
        """Dump each namespace (None where it vanished before it could be read); with ``decode``
        False only the raw dumps are kept, for a caller that may not need the records.

        Namespaces are opened MAX_BATCH at a time and their ids looked up (or assigned) in one
        datagram; each fd stays open until its namespace has been dumped.
        """
        out: list[ObservedNamespace | None] = []
        with collector_paused():
            for at in range(0, len(places), MAX_BATCH):
                out += self._observe_batch(places[at : at + MAX_BATCH], denied, errors)
            if decode:
                for observed in out:
                    if observed is not None:
                        observed.decode()
        return out

    def _observe_batch(
        self, places: list[ns_places.Found], denied: list[str], errors: list[str]
    ) -> list[ObservedNamespace | None]:
        out: list[ObservedNamespace | None] = [None] * len(places)
        fds: dict[int, int] = {}  # index in places -> the namespace's open fd
        try:
            for i, place in enumerate(places):
                if place.kind == "root":
                    out[i] = self._dump(place, None, denied, errors)
                    continue
                fd = _open_namespace(place, denied)
                if fd is not None:
                    fds[i] = fd
            nsids = self.rtnl.assign_nsids(list(fds.values()))
            for (i, fd), nsid in zip(fds.items(), nsids, strict=True):
                place = places[i]
                if isinstance(nsid, NetlinkError):
                    # the kernel checks the fd's namespace type itself: EINVAL for any other
                    if nsid.errno == errno.EINVAL and not ns_places.is_net_namespace(fd):
                        errors.append(f"{place.path} is a namespace, but not a network namespace")
                    else:
                        denied.append(f"{place.path}: {nsid.strerror}")
                        out[i] = ObservedNamespace(self.record(place, None, errors), readable=False)
                elif nsid is None:
                    errors.append(f"{place.path}: the kernel gave no namespace id")
                else:
                    out[i] = self._dump(place, nsid, denied, errors)
        finally:
            for fd in fds.values():
                os.close(fd)
        return out

    def _dump(
        self, place: ns_places.Found, nsid: int | None, denied: list[str], errors: list[str]
    ) -> ObservedNamespace | None:
        observed = ObservedNamespace(self.record(place, nsid, errors))
        try:
            observed.raw = (self.rtnl.read_links(nsid), self.rtnl.read_addresses(nsid))
        except MalformedMessage as exc:
            observed.readable = False
            errors.append(f"{place.path}: unreadable netlink answer ({exc})")
        except NetlinkError as exc:
            observed.readable = False
            if exc.errno in (errno.EPERM, errno.EACCES):
                denied.append(place.path)
            elif exc.errno in (errno.EINVAL, errno.ENETUNREACH, errno.ENOENT):
                return None  # the namespace died between its id lookup and the dump
            else:
                errors.append(f"{place.path}: {exc.strerror}")
        return observed

    def add_root_id(self, ids: IdsAndPaths, root_inode: int | None) -> None:
        """Root's id for itself, when it has one and root was read."""
        root_nsid = self.root_self_nsid()
        if root_nsid is not None and root_inode is not None:
            ids.inode_by_nsid[root_nsid] = root_inode

    def root_self_nsid(self) -> int | None:
        """Root's id for itself: the kernel assigns it lazily, when a peer lives in root."""
        fd = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            return self.rtnl.get_nsid(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (process-wide) while a scan builds its records.

    Nearly everything a scan allocates outlives it, so a collection could free nothing: it runs
    every 700 new objects and walks everything alive, which at a thousand namespaces came to
    about one full collection per scan. Nests; the collector resumes only if it was running.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _open_namespace(place: ns_places.Found, denied: list[str]) -> int | None:
    """An fd of the namespace found at ``place``; None when it is gone or no longer the same."""
    try:
        fd = open_holder(place.path) if place.kind == "socket" else os.open(place.path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError as exc:
        denied.append(f"{place.path}: {exc.strerror}")
        return None
    if os.fstat(fd).st_ino != place.inode:  # the pid or mount now points at another namespace
        os.close(fd)
        return None
    return fd


def report_denied(denied: list[str]) -> list[str]:
    if not denied:
        return []
    shown = ", ".join(denied[:5]) + (", ..." if len(denied) > 5 else "")
    return [f"{len(denied)} namespaces could not be read ({shown}): {PRIVILEGE_HINT}"]


def discover(node: str | None = None) -> Inventory:
    with Discoverer(node) as discoverer:
        return discoverer.scan()
