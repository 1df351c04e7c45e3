"""Follow the kernel: a full inventory once, then precise updates from netlink events.

Why this shape (DESIGN.md, "Kernel facts"):
- One root event socket with NETLINK_LISTEN_ALL_NSID hears every namespace that has an id in
  root; the agent gives every namespace it finds an id, so it hears them all.
- An event says *where* something changed, but a non-root namespace's IFLA_LINK_NETNSID is in
  that namespace's own id space. So the watcher never trusts an event's body: it re-reads the
  affected link (one RTM_GETLINK by ifindex and target nsid from the root socket, whose answers
  are in root's id space) and that link's addresses, then recomputes the peers of just the
  affected veth ends with the same pure code the full scan uses (agent.peers).
- A moved veth end tells the namespace holding the other end nothing: every end that pointed at
  a changed place, or that a changed place pointed at, is re-read too.
- Namespaces come and go through /run/netns and /var/run/docker/netns (inotify), RTM_NEWNSID /
  RTM_DELNSID in root, and a cheap /proc pass; a periodic full re-read corrects any drift (and
  costs little more than its dumps when there is none), and an event-socket overflow (ENOBUFS)
  triggers one at once.

``TopologyState`` is the bookkeeping (no I/O, unit-tested); ``Watcher`` does the I/O.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import select
import stat
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from agent import namespaces as ns_places
from agent.discovery import Discoverer, IdsAndPaths, report_denied, scan_order
from agent.holders import MountWatch
from agent.netlink import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELNSID,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWNSID,
    Addr,
    Event,
    EventSocket,
    Link,
    NetlinkError,
    Overflow,
    RtnlSocket,
)
from agent.peers import ObservedNamespace, RawDump, assemble_interfaces
from agent.protocol import (
    Interface,
    Inventory,
    Namespace,
    NamespaceKind,
    canonical_order,
    diff_inventories,
    record_to_json,
)

log = logging.getLogger("nsmap.agent.watch")

Place = tuple[int, int]  # (namespace inode, ifindex)
Change = dict[str, Any]
Token = tuple[str, int, int]  # ("i", inode, ifindex) or ("n", nsid, ifindex): where a link points

PROC_SECONDS = 2.0  # the /proc pass: readdir + one readlink per process
NS_RECHECKS = (0.02, 0.2, 1.0)  # s after a new entry appeared: `ip netns add` makes the file, then mounts
NS_PASS_MIN_INTERVAL = 0.05  # at most 20 namespace passes a second, however busy /run/netns is
MAX_PLACES_PER_BATCH = 1500  # beyond this a full scan is cheaper than one GET per link
SETTLE_QUIET = 0.0005  # a burst's next event comes within microseconds of the previous one
SETTLE_MAX = 0.004  # never hold a burst's first event longer than this before working on it
RECONCILE_CHUNK = 64  # namespaces dumped at a time: their dumps are compared and dropped before the next
MAX_EVENTS_PER_READ = 20000  # bound one drain so timers still run during a flood


class TopologyState:
    """The raw kernel view (links and addresses per place) and the records derived from it."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.root_inode = 0
        self.namespaces: dict[int, Namespace] = {}
        self.paths: dict[int, str] = {}
        self.inode_by_nsid: dict[int, int] = {}
        self.nsids_of: dict[int, set[int]] = {}
        self.links: dict[Place, Link] = {}
        self.addrs: dict[Place, list[Addr]] = {}
        self.interfaces: dict[Place, Interface] = {}
        self.places_of: dict[int, set[Place]] = {}
        self.refs: dict[Token, set[Place]] = {}  # who points at a token
        self.errors: list[str] = []
        self.complete = True
        self.unreadable: set[int] = set()  # namespaces whose links the last scan could not read
        # the raw dumps that the stored links and addresses of a namespace are exactly made of;
        # forgotten as soon as anything else (an event) changes them
        self.raw: dict[int, RawDump] = {}

    # -- loading ---------------------------------------------------------------------------------

    def load(
        self,
        observed: list[ObservedNamespace],
        inode_by_nsid: dict[int, int],
        paths: dict[int, str],
        errors: list[str],
        complete: bool = True,
        interfaces: list[Interface] | None = None,
    ) -> None:
        """Replace everything with a full scan's result (the raw dumps and the id map); the
        scan's own interface records when given (assembling them again costs a reconcile 15%)."""
        self.__init__(self.node)  # type: ignore[misc]
        self.errors = list(errors)
        self.complete = complete
        for nsid, inode in inode_by_nsid.items():
            self._map_nsid(nsid, inode)
        for ns in observed:
            inode = ns.record.inode
            if ns.record.kind == "root":
                self.root_inode = inode
            self.namespaces[inode] = ns.record
            self.paths[inode] = paths.get(inode, "")
            self.places_of.setdefault(inode, set())
            if not ns.readable:
                self.unreadable.add(inode)
            by_index = _addrs_by_ifindex(ns.addresses)
            for link in ns.links:
                self._set_link((inode, link.ifindex), link, by_index.get(link.ifindex, []))
            if ns.raw is not None:
                self.raw[inode] = ns.raw
        if interfaces is None:
            interfaces = assemble_interfaces(observed, self.inode_by_nsid)
        self.interfaces = {_place_of_key(i.key): i for i in interfaces}

    def unchanged(self, observed: ObservedNamespace) -> bool:
        """Whether a fresh, undecoded dump of one namespace reads exactly as the one the state
        holds was made of (with the same record and readability): the idle reconcile's question,
        answered without decoding anything. False also when the state no longer has that dump."""
        inode = observed.record.inode
        return (
            observed.raw is not None
            and self.raw.get(inode) == observed.raw
            and self.namespaces.get(inode) == observed.record
            and observed.readable != (inode in self.unreadable)
        )

    def matches(self, observed: ObservedNamespace) -> bool:
        """Whether a fresh, decoded dump of one namespace says exactly what the state holds for
        it (its record, readability, links and their addresses)."""
        inode = observed.record.inode
        if self.namespaces.get(inode) != observed.record or observed.readable == (inode in self.unreadable):
            return False
        if len(self.places_of.get(inode, ())) != len(observed.links):
            return False
        links = self.links
        for link in observed.links:
            if links.get((inode, link.ifindex)) != link:
                return False
        by_index = _addrs_by_ifindex(observed.addresses)
        addrs = self.addrs
        return all(addrs.get((inode, link.ifindex), []) == by_index.get(link.ifindex, []) for link in observed.links)

    def observed(self, inode: int) -> ObservedNamespace:
        """The stored raw dump of one namespace, as a scan returns it."""
        places = sorted(self.places_of.get(inode, ()))
        return ObservedNamespace(
            self.namespaces[inode],
            [self.links[p] for p in places],
            [a for p in places for a in self.addrs.get(p, [])],
            inode not in self.unreadable,
            self.raw.get(inode),
        )

    def inventory(self) -> Inventory:
        namespaces = sorted(self.namespaces.values(), key=scan_order)
        interfaces = [self.interfaces[p] for p in sorted(self.interfaces)]
        return Inventory(
            node=self.node,
            namespaces=namespaces,
            interfaces=interfaces,
            errors=list(self.errors),
            complete=self.complete,
        )

    # -- indexes ---------------------------------------------------------------------------------

    def _map_nsid(self, nsid: int, inode: int) -> None:
        old = self.inode_by_nsid.get(nsid)
        if old is not None and old != inode:
            self.nsids_of.get(old, set()).discard(nsid)
        self.inode_by_nsid[nsid] = inode
        self.nsids_of.setdefault(inode, set()).add(nsid)

    def _unmap_inode(self, inode: int) -> set[int]:
        nsids = self.nsids_of.pop(inode, set())
        for nsid in nsids:
            if self.inode_by_nsid.get(nsid) == inode:
                del self.inode_by_nsid[nsid]
        return nsids

    @staticmethod
    def _token(place: Place, link: Link) -> Token | None:
        if not link.link:
            return None
        if link.link_netnsid is None:
            return ("i", place[0], link.link)
        return ("n", link.link_netnsid, link.link)

    def _set_link(self, place: Place, link: Link | None, addrs: list[Addr] | None) -> None:
        self.raw.pop(place[0], None)
        old = self.links.get(place)
        if old is not None:
            token = self._token(place, old)
            if token is not None:
                holders = self.refs.get(token)
                if holders is not None:
                    holders.discard(place)
                    if not holders:
                        del self.refs[token]
        if link is None:
            self.links.pop(place, None)
            self.addrs.pop(place, None)
            self.places_of.get(place[0], set()).discard(place)
            return
        self.links[place] = link
        self.addrs[place] = list(addrs or [])
        self.places_of.setdefault(place[0], set()).add(place)
        token = self._token(place, link)
        if token is not None:
            self.refs.setdefault(token, set()).add(place)

    def target(self, place: Place) -> Place | None:
        """Where the link at ``place`` says its peer is, in inodes; None when unknown."""
        link = self.links.get(place)
        if link is None or not link.link:
            return None
        if link.link_netnsid is None:
            return (place[0], link.link)
        inode = self.inode_by_nsid.get(link.link_netnsid)
        return None if inode is None else (inode, link.link)

    def pointing_at(self, place: Place) -> set[Place]:
        """Every stored link whose IFLA_LINK names ``place`` (in any id it may be known by)."""
        inode, ifindex = place
        found = set(self.refs.get(("i", inode, ifindex), ()))
        for nsid in self.nsids_of.get(inode, ()):
            found |= self.refs.get(("n", nsid, ifindex), set())
        return found

    def neighbours(self, places: Iterable[Place]) -> set[Place]:
        """Places whose peer state may depend on ``places``: what they point at and who points at them."""
        out: set[Place] = set()
        for place in places:
            target = self.target(place)
            if target is not None:
                out.add(target)
            out |= self.pointing_at(place)
        return out

    # -- updates ---------------------------------------------------------------------------------

    def apply_links(self, fetched: dict[Place, tuple[Link | None, list[Addr]]]) -> set[Place]:
        """Store re-read links (None: gone); return every place whose record must be recomputed."""
        affected = set(fetched) | self.neighbours(fetched)  # old pointers
        for place, (link, addrs) in fetched.items():
            if place[0] not in self.namespaces:
                continue
            if self.links.get(place) == link and (link is None or self.addrs.get(place) == addrs):
                continue  # re-read as it was (most often the partner of a changed end): the raw dump holds
            self._set_link(place, link, addrs)
        return affected | self.neighbours(fetched)  # new pointers

    def refresh(
        self,
        dirty_links: set[Place],
        dirty_addrs: set[Place],
        fetch_link: Callable[[Place], tuple[Link | None, list[Addr]] | None],
        fetch_addrs: Callable[[Place], list[Addr] | None],
    ) -> list[Change]:
        """Re-read changed places, and the ends they were paired with (a moved end's partner
        gets no event of its own), then recompute every record that may depend on them.

        ``fetch_link`` returns (link or None when gone, its addresses), or None when the place
        cannot be asked about; ``fetch_addrs`` likewise for addresses only.
        """
        dirty = set(dirty_links) | {p for p in self.neighbours(dirty_links) if p in self.links}
        fetched: dict[Place, tuple[Link | None, list[Addr]]] = {}
        for place in dirty:
            if place[0] not in self.namespaces:
                continue
            got = fetch_link(place)
            if got is not None:
                fetched[place] = got
        for place in dirty_addrs - set(fetched):
            if place not in self.links:
                continue  # its NEWLINK (or a rescan) brings the addresses along
            addrs = fetch_addrs(place)
            if addrs is not None:
                fetched[place] = (self.links[place], addrs)
        return self.recompute(self.apply_links(fetched))

    def recompute(self, places: Iterable[Place]) -> list[Change]:
        """Rebuild the interface records at ``places`` from stored links; the changes that made."""
        places = {p for p in places if p[0] in self.namespaces or p in self.interfaces}
        if not places:
            return []
        wanted = {p for p in places if p in self.links}
        context = set(wanted)
        for place in wanted:
            target = self.target(place)
            if target is not None and target in self.links:
                context.add(target)
        by_inode: dict[int, ObservedNamespace] = {}
        for place in context:
            ns = by_inode.get(place[0])
            if ns is None:
                ns = by_inode[place[0]] = ObservedNamespace(self.namespaces[place[0]])
            ns.links.append(self.links[place])
            if place in wanted:
                ns.addresses.extend(self.addrs.get(place, []))
        fresh = {
            _place_of_key(i.key): i
            for i in assemble_interfaces(list(by_inode.values()), self.inode_by_nsid, self.links, self.unreadable)
            if _place_of_key(i.key) in wanted
        }
        changes: list[Change] = []
        for place in places:
            new, old = fresh.get(place), self.interfaces.get(place)
            if new is None:
                if old is not None:
                    del self.interfaces[place]
                    changes.append({"op": "remove", "kind": "interface", "key": old.key, "data": None})
            elif new != old:
                self.interfaces[place] = new
                changes.append({"op": "upsert", "kind": "interface", "key": new.key, "data": record_to_json(new)})
        return changes

    def add_namespace(self, observed: ObservedNamespace, path: str) -> list[Change]:
        """A namespace found after the scan, with its links already dumped."""
        record = observed.record
        inode = record.inode
        changes = [{"op": "upsert", "kind": "namespace", "key": record.key, "data": record_to_json(record)}]
        self.namespaces[inode] = record
        self.paths[inode] = path
        self.places_of.setdefault(inode, set())
        if record.nsid is not None:
            self._map_nsid(record.nsid, inode)
        by_index = _addrs_by_ifindex(observed.addresses)
        fetched = {(inode, link.ifindex): (link, by_index.get(link.ifindex, [])) for link in observed.links}
        affected = self.apply_links(fetched)
        if record.nsid is not None:  # links elsewhere that named this id before it was known
            for token, holders in list(self.refs.items()):
                if token[0] == "n" and token[1] == record.nsid:
                    affected |= holders
        return changes + self.recompute(affected)

    def update_namespace(self, record: Namespace) -> list[Change]:
        """Names, pids or container id changed; links are untouched."""
        old = self.namespaces.get(record.inode)
        if old is None or old == record:
            return []
        self.namespaces[record.inode] = record
        return [{"op": "upsert", "kind": "namespace", "key": record.key, "data": record_to_json(record)}]

    def remove_namespace(self, inode: int) -> list[Change]:
        """The namespace is gone: its interfaces go, ends that pointed into it turn unresolved."""
        record = self.namespaces.get(inode)
        if record is None or inode == self.root_inode:
            return []
        places = set(self.places_of.get(inode, set()))
        affected = places | self.neighbours(places)
        for place in places:
            self._set_link(place, None, None)
        nsids = self._unmap_inode(inode)
        for token, holders in list(self.refs.items()):
            if token[0] == "n" and token[1] in nsids:
                affected |= holders
        changes = self.recompute(affected)
        for place in [p for p in self.interfaces if p[0] == inode]:  # nothing should be left
            changes.append({"op": "remove", "kind": "interface", "key": self.interfaces.pop(place).key, "data": None})
        del self.namespaces[inode]
        self.paths.pop(inode, None)
        self.places_of.pop(inode, None)
        self.raw.pop(inode, None)
        changes.append({"op": "remove", "kind": "namespace", "key": record.key, "data": None})
        return changes


def _addrs_by_ifindex(addresses: list[Addr]) -> dict[int, list[Addr]]:
    """A dump's addresses grouped by link, in dump order (how the state stores them)."""
    out: dict[int, list[Addr]] = {}
    for addr in addresses:
        out.setdefault(addr.ifindex, []).append(addr)
    return out


def _place_of_key(key: str) -> Place:
    _, inode, ifindex = key.split(":")
    return int(inode), int(ifindex)


# -- inotify through ctypes --------------------------------------------------------------------

IN_ATTRIB, IN_MOVED_FROM, IN_MOVED_TO = 0x4, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
IN_ONLYDIR = 0x01000000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
DIR_EVENTS = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
PARENT_EVENTS = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
EVENT_HEADER = struct.Struct("=iIII")  # wd, mask, cookie, len


class Inotify:
    """The three inotify calls, via libc (the stdlib has no binding)."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")

    def add_watch(self, path: str, mask: int) -> int:
        wd = self.libc.inotify_add_watch(self.fd, os.fsencode(path), ctypes.c_uint32(mask))
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_add_watch {path}: {os.strerror(err)}")
        return wd

    def rm_watch(self, wd: int) -> None:
        self.libc.inotify_rm_watch(self.fd, wd)  # EINVAL when the kernel already dropped it

    def read(self) -> list[tuple[int, int, str]]:
        """(wd, mask, name) of every queued event; [] when none."""
        events: list[tuple[int, int, str]] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            pos = 0
            while pos + EVENT_HEADER.size <= len(data):
                wd, mask, _cookie, length = EVENT_HEADER.unpack_from(data, pos)
                name = data[pos + EVENT_HEADER.size : pos + EVENT_HEADER.size + length].split(b"\0", 1)[0]
                events.append((wd, mask, os.fsdecode(name)))
                pos += EVENT_HEADER.size + length

    def close(self) -> None:
        os.close(self.fd)


class DirWatch:
    """Watch a directory that may not exist yet, and may be replaced or mounted over.

    Watches the target itself when it exists, else its deepest existing ancestor (for the
    target's creation). ``ensure()`` is cheap (a few stats) and re-targets the watch whenever the
    path now resolves to another inode; called on every event and on the periodic pass.
    """

    def __init__(self, inotify: Inotify, target: str) -> None:
        self.inotify = inotify
        self.target = target
        self.wd: int | None = None
        self.identity: tuple[str, int, int] | None = None

    @property
    def on_target(self) -> bool:
        return self.identity is not None and self.identity[0] == self.target

    def ensure(self) -> bool:
        """(Re)place the watch; True when the watched directory changed."""
        path = self.target
        while True:
            try:
                st = os.stat(path)
                if stat.S_ISDIR(st.st_mode):
                    break
            except OSError:
                pass
            parent = os.path.dirname(path)
            if parent == path:
                return False
            path = parent
        identity = (path, st.st_dev, st.st_ino)
        if identity == self.identity:
            return False
        if self.wd is not None:
            self.inotify.rm_watch(self.wd)
            self.wd = None
        try:
            self.wd = self.inotify.add_watch(path, (DIR_EVENTS if path == self.target else PARENT_EVENTS) | IN_ONLYDIR)
        except OSError as exc:
            log.warning("cannot watch %s: %s", path, exc)
            self.identity = None
            return False
        self.identity = identity
        return True


# -- the watcher ---------------------------------------------------------------------------------


class Sink(Protocol):
    """Where the watcher's results go (the Publisher)."""

    def reset(self, inventory: Inventory) -> None: ...

    def submit(self, changes: list[Change]) -> None: ...

    def set_errors(self, errors: list[str], complete: bool = True) -> None: ...


class Watcher:
    """Owns the netlink sockets (used from its own thread only) and the TopologyState."""

    def __init__(
        self,
        node: str,
        sink: Sink,
        reconcile_seconds: float = 30.0,
        proc_seconds: float = PROC_SECONDS,
        named_dirs: Iterable[tuple[str, NamespaceKind]] = ns_places.NAMED_DIRS,
        event_buffer: int = 8 << 20,
    ) -> None:
        self.node = node
        self.sink = sink
        self.reconcile_seconds = reconcile_seconds
        self.proc_seconds = proc_seconds
        self.named_dirs = tuple(named_dirs)
        self.event_buffer = event_buffer
        self.state = TopologyState(node)
        self.discoverer: Discoverer | None = None
        self.events: EventSocket | None = None
        self.inotify: Inotify | None = None
        self.dir_watches: list[DirWatch] = []
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._lock = threading.Lock()  # guards the request flags set from other threads
        self._reconcile_requested = False
        # per-batch work
        self._dirty_links: set[Place] = set()
        self._dirty_addrs: set[Place] = set()
        self._ns_pass_due: float | None = None
        self._ns_rechecks: list[float] = []
        self._pending_paths: dict[str, float] = {}  # new directory entries not yet namespaces -> since
        self._last_ns_pass = 0.0
        self._need_reconcile = False
        self._unknown_nsids_seen: set[int] = set()
        self._proc_pids: dict[int, list[int]] = {}
        self.next_reconcile = 0.0
        self.next_proc = 0.0
        self.stats: dict[str, float] = {
            "events": 0,
            "overflows": 0,
            "reconciles": 0,
            "forced": 0,
            "ns_passes": 0,
            "fetches": 0,
            "decoded": 0,  # namespaces whose reconcile dump differed from the state's as read
        }
        self.cpu: dict[str, float] = {}  # seconds of this thread's CPU per kind of work (benchmarks)
        self._poller: select.poll | None = None
        self.on_batch: Callable[[float], None] | None = None  # tests/bench: time of each publish

    # -- lifecycle -------------------------------------------------------------------------------

    def open(self) -> Inventory:
        """Event socket first (nothing between the scan and the first event is lost), then scan."""
        self.events = EventSocket(buffer_size=self.event_buffer)
        self.events.setblocking(False)
        self.discoverer = Discoverer(self.node, self.named_dirs)
        self.discoverer.hidden.watch = MountWatch()  # new mounts in any mount namespace wake the loop
        try:
            self.inotify = Inotify()
            self.dir_watches = [DirWatch(self.inotify, d) for d, _ in self.named_dirs]
            for watch in self.dir_watches:
                watch.ensure()
        except OSError as exc:  # inotify exhausted: the /proc pass and reconcile still work
            log.warning("no inotify (%s); namespaces are found by the periodic passes only", exc)
            self.inotify = None
        inventory = self._load_full()
        self.sink.reset(inventory)
        now = time.monotonic()
        self.next_reconcile = now + self.reconcile_seconds
        self.next_proc = now + self.proc_seconds
        return inventory

    def close(self) -> None:
        for closer in (self.events, self.discoverer, self.inotify):
            if closer is not None:
                closer.close()
        self.events = self.discoverer = self.inotify = None
        with self._lock:  # wake() from another thread must never write to a reused fd number
            for fd in (self._wake_r, self._wake_w):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._wake_r = self._wake_w = -1

    def wake(self) -> None:
        """Interrupt the poll (stop, or a request from another thread)."""
        with self._lock, contextlib.suppress(OSError):  # a full pipe already wakes the loop
            if self._wake_w >= 0:
                os.write(self._wake_w, b"x")

    def request_reconcile(self) -> None:
        with self._lock:
            self._reconcile_requested = True
        self.wake()

    def run(self, stop: threading.Event) -> None:
        """The loop: poll with a timeout to the next timer; no busy waiting."""
        if self.events is None:
            self.open()
        while not stop.is_set():
            self.poll_once(None, stop)

    def poll_once(self, timeout: float | None = None, stop: threading.Event | None = None) -> None:
        """Wait for input or the next timer (at most ``timeout`` s), then do what is due."""
        assert self.events is not None
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self.events.fileno(), select.POLLIN)
            self._poller.register(self._wake_r, select.POLLIN)
            if self.inotify is not None:
                self._poller.register(self.inotify.fd, select.POLLIN)
        mounts = self.discoverer.hidden.watch if self.discoverer is not None else None
        if mounts is not None:
            mounts.apply(self._poller)
        wait = max(0.0, self._next_timer() - time.monotonic())
        if timeout is not None:
            wait = min(wait, timeout)
        polled = dict(self._poller.poll(wait * 1000.0))
        ready = set(polled)
        if mounts is not None and mounts.fired(polled):
            self._schedule_ns_pass(0.0)  # a mount table changed: a namespace may be mounted or unmounted
        if stop is not None and stop.is_set():
            return
        if self._wake_r in ready:
            try:
                while os.read(self._wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
        if self.events.fileno() in ready:
            self._read_events()
            self._settle()
        if self.inotify is not None and self.inotify.fd in ready:
            self._read_inotify()
        self.process(time.monotonic())

    def _next_timer(self) -> float:
        timers = [self.next_reconcile, self.next_proc]
        if self._ns_pass_due is not None:
            timers.append(self._ns_pass_due)
        timers.extend(self._ns_rechecks)
        return min(timers)

    # -- input -----------------------------------------------------------------------------------

    def _settle(self) -> None:
        """Let the rest of a burst arrive before working: one `ip link add` queues the peer's
        RTM_NEWLINK and then the device's, and a move queues DELLINK and NEWLINK; waiting while
        events keep coming (each gap at most SETTLE_QUIET, all in all at most SETTLE_MAX) turns
        them into one batch and one delta instead of a delta and a held one."""
        assert self.events is not None
        deadline = time.monotonic() + SETTLE_MAX
        waiter = select.poll()
        waiter.register(self.events.fileno(), select.POLLIN)
        while (left := deadline - time.monotonic()) > 0:
            if not waiter.poll(min(left, SETTLE_QUIET) * 1000.0):
                return
            self._read_events()

    def _read_events(self) -> None:
        assert self.events is not None
        count = 0
        while count < MAX_EVENTS_PER_READ:
            try:
                batch = self.events.read()
            except BlockingIOError:
                return
            except Overflow:
                self.stats["overflows"] += 1
                self._need_reconcile = True
                continue
            except (ValueError, OSError) as exc:  # MalformedMessage is a ValueError
                log.warning("unreadable netlink event (%s): rescanning", exc)
                self._need_reconcile = True
                continue
            count += len(batch)
            for event in batch:
                self.handle_event(event)

    def handle_event(self, event: Event) -> None:
        """Record what an event says changed; the work happens once per batch in process()."""
        self.stats["events"] += 1
        if event.type in (RTM_NEWNSID, RTM_DELNSID):
            if event.nsid is not None or event.subject_nsid is None:
                return  # another namespace's own id space: not ours
            if event.type == RTM_DELNSID:
                # a namespace died; the pass (not the id, which may be reused already) decides which
                self._schedule_ns_pass(0.0)
            elif event.subject_nsid not in self.state.inode_by_nsid:
                self._unknown_nsids_seen.discard(event.subject_nsid)  # a new holder of that id
                self._schedule_ns_pass(0.0)  # something gave a namespace we do not know an id
            return
        inode = self.state.root_inode if event.nsid is None else self.state.inode_by_nsid.get(event.nsid)
        if inode is None:
            # a namespace with an id we have not found: look once; one we cannot find (held
            # only by an fd or a private mount) is not looked for again until the next rescan
            if event.nsid not in self._unknown_nsids_seen:
                self._unknown_nsids_seen.add(event.nsid)  # type: ignore[arg-type]
                self._schedule_ns_pass(0.0)
            return
        if event.link is not None and event.type in (RTM_NEWLINK, RTM_DELLINK):
            self._dirty_links.add((inode, event.link.ifindex))
            if event.type == RTM_DELLINK and event.link.new_netnsid is not None and event.nsid is None:
                # moved out of root: the id is in root's space, so the new place is known
                target = self.state.inode_by_nsid.get(event.link.new_netnsid)
                if target is None:
                    if event.link.new_netnsid not in self._unknown_nsids_seen:
                        self._unknown_nsids_seen.add(event.link.new_netnsid)
                        self._schedule_ns_pass(0.0)
                elif event.link.new_ifindex:
                    self._dirty_links.add((target, event.link.new_ifindex))
        elif event.addr is not None and event.type in (RTM_NEWADDR, RTM_DELADDR):
            self._dirty_addrs.add((inode, event.addr.ifindex))

    def _read_inotify(self) -> None:
        """Something changed in a namespace directory (or on the way to it): look again."""
        assert self.inotify is not None
        events = self.inotify.read()
        if not events:
            return
        targets = {w.wd: w.target for w in self.dir_watches if w.on_target}
        relevant = False
        for wd, mask, name in events:
            if wd in targets or wd < 0:  # wd -1: the inotify queue overflowed
                relevant = True
                if name and wd in targets and mask & (IN_CREATE | IN_MOVED_TO | IN_ATTRIB):
                    self._add_pending(os.path.join(targets[wd], name))
        for watch in self.dir_watches:
            if watch.ensure():  # an ancestor's event (e.g. /run's, while docker's dir is missing)
                relevant = True  # matters only when the watch moved
        if relevant:
            self._schedule_ns_pass(0.0)

    def _add_pending(self, path: str) -> None:
        if path not in self._pending_paths:
            now = time.monotonic()
            self._pending_paths[path] = now
            self._ns_rechecks.extend(now + delay for delay in NS_RECHECKS)

    def _recheck_pending(self, found: list[ns_places.Found]) -> None:
        """`ip netns add` creates the file, then mounts the namespace on it: a new entry that is
        not a namespace yet is looked at again (NS_RECHECKS after it appeared) before it counts
        as a stale file. Time-based, so that busy passes in between do not use the checks up."""
        names = {name for place in found for name in place.names}
        expired = time.monotonic() - NS_RECHECKS[-1]
        for path, since in list(self._pending_paths.items()):
            if since <= expired or os.path.basename(path) in names or not os.path.lexists(path):
                del self._pending_paths[path]

    def _schedule_ns_pass(self, delay: float) -> None:
        due = time.monotonic() + delay
        if self._ns_pass_due is None or due < self._ns_pass_due:
            self._ns_pass_due = due

    # -- work ------------------------------------------------------------------------------------

    def process(self, now: float) -> None:
        """Run whatever is due: reconcile, namespace pass, link re-reads; publish the changes."""
        with self._lock:
            if self._reconcile_requested:
                self._reconcile_requested = False
                self._need_reconcile = True
        if len(self._dirty_links) + len(self._dirty_addrs) > MAX_PLACES_PER_BATCH:
            self._need_reconcile = True  # a flood: one scan is cheaper than a GET per link
        if self._need_reconcile or now >= self.next_reconcile:
            with self._timed("reconcile"):
                self.reconcile()
            return
        changes: list[Change] = []
        if now >= self.next_proc:
            self.next_proc = now + self.proc_seconds
            for watch in self.dir_watches:
                if watch.ensure():
                    self._ns_pass_due = now
            with self._timed("proc_pass"):
                if self._proc_changed() or (self.discoverer is not None and self.discoverer.owners.changed()):
                    self._ns_pass_due = now  # processes moved, or a runtime's state file (a rename)
        due_recheck = [t for t in self._ns_rechecks if t <= now]
        if due_recheck:
            self._ns_rechecks = [t for t in self._ns_rechecks if t > now]
            self._ns_pass_due = now
        if self._ns_pass_due is not None and self._ns_pass_due <= now:
            earliest = self._last_ns_pass + NS_PASS_MIN_INTERVAL  # bounds the cost of a storm
            if now < earliest:
                self._ns_pass_due = earliest
            else:
                self._ns_pass_due = None
                with self._timed("ns_pass"):
                    changes += self.namespace_pass()
        if self._dirty_links or self._dirty_addrs:
            with self._timed("events"):
                changes += self._refresh_places()
        if changes:
            self.sink.submit(canonical_order(changes))
            if self.on_batch is not None:
                self.on_batch(time.monotonic())

    @contextlib.contextmanager
    def _timed(self, what: str) -> Iterator[None]:
        started = time.thread_time()
        try:
            yield
        finally:
            self.cpu[what] = self.cpu.get(what, 0.0) + time.thread_time() - started

    def _refresh_places(self) -> list[Change]:
        """Re-read the dirty places through the root socket and recompute what depends on them."""
        dirty_links, dirty_addrs = set(self._dirty_links), set(self._dirty_addrs)
        self._dirty_links.clear()
        self._dirty_addrs.clear()
        return self.state.refresh(dirty_links, dirty_addrs, self._fetch_link, self._fetch_addrs)

    def _fetch_link(self, place: Place) -> tuple[Link | None, list[Addr]] | None:
        nsid = self._nsid_for(place[0])
        if nsid is False:
            return None
        self.stats["fetches"] += 1
        try:
            link = self._rtnl.get_link(place[1], nsid)  # type: ignore[arg-type]
            if link is None:
                return None, []
            addrs = self._rtnl.dump_addresses(nsid, place[1])  # type: ignore[arg-type]
        except NetlinkError as exc:  # the namespace is going away: its DELNSID or a pass follows
            log.debug("cannot re-read %s: %s", place, exc)
            self._schedule_ns_pass(0.0)
            return None
        if link.link_netnsid is not None:
            self._learn_nsid(link.link_netnsid)
        return link, addrs

    def _fetch_addrs(self, place: Place) -> list[Addr] | None:
        nsid = self._nsid_for(place[0])
        if nsid is False:
            return None
        try:
            return self._rtnl.dump_addresses(nsid, place[1])  # type: ignore[arg-type]
        except NetlinkError:
            return None

    @property
    def _rtnl(self) -> RtnlSocket:
        assert self.discoverer is not None
        return self.discoverer.rtnl

    def _nsid_for(self, inode: int) -> int | bool | None:
        """The target nsid for requests about ``inode`` (None: root); False when it has none."""
        if inode == self.state.root_inode:
            return None
        nsids = self.state.nsids_of.get(inode)
        return min(nsids) if nsids else False

    def _learn_nsid(self, nsid: int) -> None:
        if nsid in self.state.inode_by_nsid or nsid in self._unknown_nsids_seen:
            return
        assert self.discoverer is not None
        if self.discoverer.root_self_nsid() == nsid:
            self.state._map_nsid(nsid, self.state.root_inode)
            return
        self._unknown_nsids_seen.add(nsid)
        self._schedule_ns_pass(0.0)

    def _proc_changed(self) -> bool:
        """The cheap /proc pass: readdir and one readlink per process; True when anything moved."""
        return ns_places.pids_by_namespace() != self._proc_pids

    def _find(self) -> tuple[list[ns_places.Found], list[str], list[str]]:
        """Every namespace on the host now, in scan order, minus the ones held back (below);
        (found, errors, gaps). Reads inotify *after* the walk: an entry `ip netns add` created
        before moving itself into the new namespace is then known to be pending."""
        errors: list[str] = []
        gaps: list[str] = []
        assert self.discoverer is not None
        found = self.discoverer.find(errors, gaps)
        self._proc_pids = _pids_of(found)
        if self.inotify is not None:
            self._read_inotify()
        self._recheck_pending(found)
        order = sorted(found, key=scan_order)
        return [f for f in order if not self._held(f)], errors, gaps

    def _held(self, place: ns_places.Found) -> bool:
        """A new namespace held only by processes while a directory entry is still becoming a
        namespace is, most likely, that entry's: `ip netns add` creates the file, moves itself
        into a new namespace, then mounts it on the file. Published now, it would first appear as
        "pid N (ip)" and then change into the named one; it waits for the entry's rechecks."""
        return bool(self._pending_paths) and place.kind == "process" and place.inode not in self.state.namespaces

    def _report_errors(self, errors: list[str], gaps: list[str], denied: list[str]) -> None:
        errors = errors + gaps + report_denied(denied)
        complete = not gaps and not denied
        if (errors, complete) != (self.state.errors, self.state.complete):
            self.state.errors, self.state.complete = errors, complete
            self.sink.set_errors(errors, complete)

    def namespace_pass(self) -> list[Change]:
        """Compare the namespaces on the host with the state; dump the new ones, drop the gone."""
        assert self.discoverer is not None
        self.stats["ns_passes"] += 1
        found, errors, gaps = self._find()
        self._last_ns_pass = time.monotonic()
        state = self.state
        changes: list[Change] = []
        seen: set[int] = set()
        denied: list[str] = []
        for place in found:
            seen.add(place.inode)
            if place.inode in state.namespaces:
                nsid = state.namespaces[place.inode].nsid
                changes += state.update_namespace(self.discoverer.record(place, nsid, errors))
                state.paths[place.inode] = place.path
                continue
            if place.kind == "root":
                continue
            observed = self.discoverer.observe(place, denied, errors)
            if observed is None:
                continue
            nsid = observed.record.nsid
            if nsid is not None and state.inode_by_nsid.get(nsid, place.inode) != place.inode:
                changes += state.remove_namespace(state.inode_by_nsid[nsid])  # died, id reused
            changes += state.add_namespace(observed, place.path)
            if nsid is not None:
                self._unknown_nsids_seen.discard(nsid)
        for inode in [i for i in state.namespaces if i not in seen]:
            changes += state.remove_namespace(inode)
        self._report_errors(errors, gaps, denied)
        return changes

    def _load_full(self) -> Inventory:
        """Discoverer.scan_observed() (the one definition of a full inventory), keeping its raw dumps."""
        assert self.discoverer is not None
        inventory, observed, inode_by_nsid, paths = self.discoverer.scan_observed()
        self.state.load(observed, inode_by_nsid, paths, inventory.errors, inventory.complete, inventory.interfaces)
        self._proc_pids = ns_places.pids_by_namespace()
        self._unknown_nsids_seen.clear()
        return self.state.inventory()

    def reconcile(self) -> list[Change]:
        """Re-read the whole host; publish what differs from the state (normally nothing).

        Every namespace is found and dumped again, and each dump is compared with the state as
        soon as it is read, then dropped: first undecoded, with the dump the state was made of
        (TopologyState.unchanged); only when that differs (an event changed the state since, or
        the kernel did) is it decoded and compared record by record. When nothing differs (the
        normal case) nothing is decoded, built or published, so an idle reconcile costs the
        dumps and little else. When anything differs, the state is rebuilt from this read alone
        (the scan's path, independent of the incremental bookkeeping) and the difference goes out.
        """
        assert self.discoverer is not None
        self.stats["reconciles"] += 1
        self.stats["forced"] += self._need_reconcile  # overflow, flood, unreadable event, request
        self._need_reconcile = False
        self._dirty_links.clear()
        self._dirty_addrs.clear()
        self._ns_pass_due = None
        # whatever is queued on the event socket predates the reads; they see its effect
        self._drain_events()
        found, errors, gaps = self._find()
        state = self.state
        denied: list[str] = []
        fresh: dict[int, ObservedNamespace | None] = {}  # None: equal to the state's, dropped
        raws: dict[int, RawDump] = {}
        ids = IdsAndPaths()
        same = True
        for at in range(0, len(found), RECONCILE_CHUNK):
            chunk = found[at : at + RECONCILE_CHUNK]
            dumps = self.discoverer.observe_all(chunk, denied, errors, decode=False)
            for place, observed in zip(chunk, dumps, strict=True):
                if observed is None:
                    continue
                inode = place.inode
                dead = ids.add(place, observed)
                if dead is not None:
                    fresh.pop(dead, None)
                    raws.pop(dead, None)
                    same = False
                if observed.raw is not None:
                    raws[inode] = observed.raw
                if state.unchanged(observed):
                    fresh[inode] = None
                    continue
                self.stats["decoded"] += 1  # an idle host decodes none
                if state.matches(observed.decode()):
                    fresh[inode] = None
                else:
                    fresh[inode] = observed
                    same = False
        self.discoverer.add_root_id(ids, state.root_inode if state.root_inode in fresh else None)
        same = same and fresh.keys() == state.namespaces.keys() and ids.inode_by_nsid == state.inode_by_nsid
        now = time.monotonic()
        self.next_reconcile = now + self.reconcile_seconds
        self.next_proc = now + self.proc_seconds
        self._unknown_nsids_seen.clear()
        if same:
            state.paths = ids.paths
            state.raw = raws  # every stored namespace equals its dump of this pass
            self._report_errors(errors, gaps, denied)
            return []
        observed_all = [o if o is not None else state.observed(inode) for inode, o in fresh.items()]
        before = state.inventory()
        errors_before = (state.errors, state.complete)
        errors += gaps + report_denied(denied)
        state.load(observed_all, ids.inode_by_nsid, ids.paths, errors, not gaps and not denied)
        state.raw = raws  # the state is now made of this pass's dumps alone
        if (state.errors, state.complete) != errors_before:
            self.sink.set_errors(state.errors, state.complete)
        changes = diff_inventories(before, state.inventory())
        if changes:
            log.info("reconcile corrected %d records", len(changes))
            self.sink.submit(changes)
            if self.on_batch is not None:
                self.on_batch(time.monotonic())
        return changes

    def _drain_events(self) -> None:
        if self.events is None:
            return
        while True:
            try:
                self.events.read()
            except BlockingIOError:
                return
            except (Overflow, ValueError):
                continue
            except OSError:
                return


def _pids_of(found: list[ns_places.Found]) -> dict[int, list[int]]:
    return {f.inode: list(f.pids) for f in found if f.pids}
