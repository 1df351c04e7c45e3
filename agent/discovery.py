"""Full inventory of one host: namespaces, links, addresses and exact veth peers.

One netlink socket in the agent's namespace observes everything: every namespace gets an id in
the root namespace and is dumped by that id (no setns, no fork, no `ip`). The fd of each
namespace stays open while it is looked up and dumped, so the namespace (and its id) cannot
vanish under the dump. This is the code path of both `python -m agent scan` and the live agent.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable
from typing import Any

from agent import namespaces as ns_places
from agent.netlink import Link, MalformedMessage, NetlinkError, RtnlSocket
from agent.peers import ObservedNamespace, Place, assemble_interfaces, claimed_places
from agent.protocol import Interface, Inventory, Namespace, NamespaceKind, diff_records, order_changes

MAX_REFRESH_ROUNDS = 4
KIND_ORDER = {"root": 0, "named": 1, "docker": 2, "process": 3}
PRIVILEGE_HINT = "run as root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to see every namespace"


class Discoverer:
    """Keeps its socket and the last observation of every namespace between scans.

    ``scan()`` reads everything; the live agent then calls ``refresh()`` with the namespaces an
    event touched and ``update_places()`` when namespaces may have come or gone, and gets back
    exactly the delta changes, with the veth ends in other namespaces re-resolved too (a moved
    end's peer gets no event of its own).
    """

    def __init__(
        self,
        node: str | None = None,
        named_dirs: Iterable[tuple[str, NamespaceKind]] = ns_places.NAMED_DIRS,
    ) -> None:
        self.node = node or socket.gethostname()
        self.named_dirs = tuple(named_dirs)
        self.rtnl = RtnlSocket()
        self.root_inode = os.stat("/proc/self/ns/net").st_ino
        self.places: dict[int, ns_places.Found] = {}
        self.observed: dict[int, ObservedNamespace] = {}
        self.interfaces: dict[int, list[Interface]] = {}
        self.inode_by_nsid: dict[int, int] = {}
        self.links_by_place: dict[tuple[int, int], Link] = {}
        self.claims: dict[Place, set[int]] = {}  # where a veth's peer should be -> its namespace
        self.claimed_by: dict[int, list[Place]] = {}
        self.errors: list[str] = []
        self.complete = True

    def close(self) -> None:
        self.rtnl.close()

    def __enter__(self) -> Discoverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(self) -> Inventory:
        """A full inventory, read afresh; it also resets the state that refresh() builds on."""
        errors: list[str] = []
        gaps: list[str] = []
        found = ns_places.find_namespaces(errors, gaps, self.named_dirs)
        self.places = {place.inode: place for place in found}
        self.observed, self.inode_by_nsid = {}, {}
        denied: list[str] = []
        for place in sorted(found, key=lambda f: (KIND_ORDER[f.kind], f.names[:1], f.inode)):
            self._store(self.observe(place, denied, errors), place.inode)
        self.interfaces, self.claims, self.claimed_by = {}, {}, {}
        self._assemble(set(self.observed))
        self.errors = errors + gaps + self._report(denied)
        self.complete = not gaps and not denied
        return self.inventory()

    def inventory(self) -> Inventory:
        return Inventory(
            node=self.node,
            namespaces=[o.record for o in self.observed.values()],
            interfaces=[i for inode in self.observed for i in self.interfaces.get(inode, [])],
            errors=list(self.errors),
            complete=self.complete,
        )

    def inode_for_nsid(self, nsid: int | None) -> int | None:
        """The namespace an event came from (None: the agent's own)."""
        return self.root_inode if nsid is None else self.inode_by_nsid.get(nsid)

    def refresh(self, inodes: Iterable[int]) -> list[dict[str, Any]]:
        """Re-read these namespaces and return the changes.

        A veth end that moved or vanished leaves its peer's record stale, and the kernel sends
        the peer's namespace nothing: every namespace holding a veth whose peer was at a place
        that changed is re-read too, until nothing more changes.
        """
        pending = set(inodes)
        before_ns: dict[int, Namespace | None] = {}
        before_if: dict[int, list[Interface]] = {}
        errors: list[str] = []
        denied: list[str] = []
        for _ in range(MAX_REFRESH_ROUNDS):
            if not pending:
                break
            changed: set[Place] = set()
            for inode in pending:
                old = self.observed.pop(inode, None)
                before_ns.setdefault(inode, old.record if old else None)
                before_if.setdefault(inode, self.interfaces.pop(inode, []))
                if old is not None:
                    self._forget(old)
                place = self.places.get(inode)
                new = self.observe(place, denied, errors) if place else None
                self._store(new, inode)
                changed |= _changed_places(inode, old, new)
            pending = {owner for place in changed for owner in self.claims.get(place, ())} - before_ns.keys()
        self._assemble({i for i in before_ns if i in self.observed})
        after_ns = [self.observed[i].record for i in before_ns if i in self.observed]
        after_if = [i for inode in before_ns for i in self.interfaces.get(inode, [])]
        self.errors += [e for e in errors + self._report(denied) if e not in self.errors]
        self.complete = self.complete and not denied
        return order_changes(
            diff_records("namespace", [r for r in before_ns.values() if r], after_ns),
            diff_records("interface", [i for group in before_if.values() for i in group], after_if),
        )

    def update_places(self) -> list[dict[str, Any]]:
        """Look for namespaces again (readdir and stat only); read new ones, drop vanished ones."""
        errors: list[str] = []
        gaps: list[str] = []
        found = {place.inode: place for place in ns_places.find_namespaces(errors, gaps, self.named_dirs)}
        self.errors += [e for e in errors + gaps if e not in self.errors]
        self.complete = self.complete and not gaps
        changed = found.keys() ^ self.places.keys()
        for inode, place in found.items():
            old = self.places.get(inode)
            if old is not None and (old.names, old.pids, old.kind) != (place.names, place.pids, place.kind):
                changed.add(inode)
        self.places = found
        return self.refresh(changed) if changed else []

    def _store(self, observed: ObservedNamespace | None, inode: int) -> None:
        if observed is None:
            return
        nsid = observed.record.nsid
        if nsid is not None:
            stale = self.inode_by_nsid.get(nsid)
            if stale is not None and stale != inode and stale in self.observed:
                # that namespace died after its dump and the kernel reused its id
                self._forget(self.observed.pop(stale))
                self.interfaces.pop(stale, None)
            self.inode_by_nsid[nsid] = inode
        self.observed[inode] = observed
        self.links_by_place.update(((inode, link.ifindex), link) for link in observed.links)

    def _forget(self, observed: ObservedNamespace) -> None:
        inode = observed.record.inode
        for link in observed.links:
            self.links_by_place.pop((inode, link.ifindex), None)
        if observed.record.nsid is not None and self.inode_by_nsid.get(observed.record.nsid) == inode:
            del self.inode_by_nsid[observed.record.nsid]
        for place in self.claimed_by.pop(inode, []):
            self.claims.get(place, set()).discard(inode)

    def _assemble(self, inodes: set[int]) -> None:
        subset = [self.observed[i] for i in inodes]
        if any(
            link.link_netnsid is not None and link.link_netnsid not in self.inode_by_nsid
            for ns in subset
            for link in ns.links
        ):
            root_nsid = self._root_self_nsid()  # the kernel assigns it lazily
            if root_nsid is not None:
                self.inode_by_nsid[root_nsid] = self.root_inode
        for ns in subset:
            inode = ns.record.inode
            for place in self.claimed_by.pop(inode, []):
                self.claims.get(place, set()).discard(inode)
            self.claimed_by[inode] = claimed_places(ns, self.inode_by_nsid)
            for place in self.claimed_by[inode]:
                self.claims.setdefault(place, set()).add(inode)
            self.interfaces[inode] = assemble_interfaces([ns], self.inode_by_nsid, self.links_by_place)

    @staticmethod
    def _report(denied: list[str]) -> list[str]:
        if not denied:
            return []
        shown = ", ".join(denied[:5]) + (", ..." if len(denied) > 5 else "")
        return [f"{len(denied)} namespaces could not be read ({shown}): {PRIVILEGE_HINT}"]

    def observe(self, place: ns_places.Found, denied: list[str], errors: list[str]) -> ObservedNamespace | None:
        """Dump one namespace; None when it vanished before it could be read."""
        if place.kind == "root":
            return self._dump(place, None, denied, errors)
        try:
            fd = os.open(place.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            denied.append(f"{place.path}: {exc.strerror}")
            return None
        try:
            if os.fstat(fd).st_ino != place.inode:
                return None  # the pid or mount now points at another namespace
            if place.kind != "process" and not ns_places.is_net_namespace(fd):
                errors.append(f"{place.path} is a namespace, but not a network namespace")
                return None
            try:
                nsid = self.rtnl.assign_nsid(fd)
            except NetlinkError as exc:
                denied.append(f"{place.path}: {exc.strerror}")
                return ObservedNamespace(ns_places.to_record(place, None))
            if nsid is None:
                errors.append(f"{place.path}: the kernel gave no namespace id")
                return None
            return self._dump(place, nsid, denied, errors)
        finally:
            os.close(fd)

    def _dump(
        self, place: ns_places.Found, nsid: int | None, denied: list[str], errors: list[str]
    ) -> ObservedNamespace | None:
        observed = ObservedNamespace(ns_places.to_record(place, nsid))
        try:
            observed.links = self.rtnl.dump_links(nsid)
            observed.addresses = self.rtnl.dump_addresses(nsid)
        except MalformedMessage as exc:
            errors.append(f"{place.path}: unreadable netlink answer ({exc})")
        except NetlinkError as exc:
            if exc.errno in (errno.EPERM, errno.EACCES):
                denied.append(place.path)
            elif exc.errno in (errno.EINVAL, errno.ENETUNREACH, errno.ENOENT):
                return None  # the namespace died between its id lookup and the dump
            else:
                errors.append(f"{place.path}: {exc.strerror}")
        return observed

    def _root_self_nsid(self) -> int | None:
        """Root's id for itself: the kernel assigns it lazily when a peer lives in root."""
        fd = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            return self.rtnl.get_nsid(fd)
        finally:
            os.close(fd)


def _changed_places(inode: int, old: ObservedNamespace | None, new: ObservedNamespace | None) -> set[Place]:
    """Links that appeared, vanished, or now point elsewhere; and the namespace's id if it is new."""
    before = {link.ifindex: (link.kind, link.link, link.link_netnsid) for link in (old.links if old else [])}
    after = {link.ifindex: (link.kind, link.link, link.link_netnsid) for link in (new.links if new else [])}
    changed: set[Place] = {(inode, i) for i in before.keys() | after.keys() if before.get(i) != after.get(i)}
    if new is not None and new.record.nsid is not None and (old is None or old.record.nsid != new.record.nsid):
        # veths that named this namespace by an id nobody knew yet
        changed |= {(("nsid", new.record.nsid), i) for i in after}
    return changed


def discover(node: str | None = None) -> Inventory:
    with Discoverer(node) as discoverer:
        return discoverer.scan()
