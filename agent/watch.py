"""Follow the kernel: a full inventory once, then precise updates from netlink events.

Why this shape (docs/ARCHITECTURE.md, "Kernel facts that decide correctness"):
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

``TopologyState`` (agent/state.py) is the bookkeeping, no I/O and unit-tested; the namespace
directories are watched by agent/inotify.py; ``Watcher`` here does the I/O and the timing.

Why the Watcher is one piece (about 550 lines): its parts (reading events, the namespace pass,
re-reading links, the reconcile) run on one thread and share its timers, its dirty sets and its
sockets, and their order is the correctness argument (events drained before a reconcile reads,
inotify read after a walk, a flood turning into a rescan). Split further, each part would reach
into the others' private state, which is what moving the state and inotify out removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from agent import namespaces as ns_places
from agent.discovery import Discoverer, IdsAndPaths, report_denied, scan_order
from agent.holders import MountWatch
from agent.inotify import NamespaceDirs
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
from agent.peers import ObservedNamespace, RawDump
from agent.protocol import Change, Inventory, NamespaceKind, canonical_order, diff_inventories
from agent.state import Place, TopologyState

log = logging.getLogger("nsmap.agent.watch")

PROC_SECONDS = 2.0  # the /proc pass: readdir + one readlink per process
NS_PASS_MIN_INTERVAL = 0.05  # at most 20 namespace passes a second, however busy /run/netns is
MAX_PLACES_PER_BATCH = 1500  # beyond this a full scan is cheaper than one GET per link
SETTLE_QUIET = 0.0005  # a burst's next event comes within microseconds of the previous one
SETTLE_MAX = 0.004  # never hold a burst's first event longer than this before working on it
RECONCILE_CHUNK = 64  # namespaces dumped at a time: their dumps are compared and dropped before the next
MAX_EVENTS_PER_READ = 20000  # bound one drain so timers still run during a flood


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
        self.dirs: NamespaceDirs | None = None  # None when inotify is unavailable
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._lock = threading.Lock()  # guards the request flags set from other threads
        self._reconcile_requested = False
        # per-batch work
        self._dirty_links: set[Place] = set()
        self._dirty_addrs: set[Place] = set()
        self._ns_pass_due: float | None = None
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
            self.dirs = NamespaceDirs(d for d, _ in self.named_dirs)
        except OSError as exc:  # inotify exhausted: the /proc pass and reconcile still work
            log.warning("no inotify (%s); namespaces are found by the periodic passes only", exc)
            self.dirs = None
        inventory = self._load_full()
        self.sink.reset(inventory)
        now = time.monotonic()
        self.next_reconcile = now + self.reconcile_seconds
        self.next_proc = now + self.proc_seconds
        return inventory

    def close(self) -> None:
        for closer in (self.events, self.discoverer, self.dirs):
            if closer is not None:
                closer.close()
        self.events = self.discoverer = self.dirs = None
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
            if self.dirs is not None:
                self._poller.register(self.dirs.fd, select.POLLIN)
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
        if self.dirs is not None and self.dirs.fd in ready:
            self._read_inotify()
        self.process(time.monotonic())

    def _next_timer(self) -> float:
        timers = [self.next_reconcile, self.next_proc]
        if self._ns_pass_due is not None:
            timers.append(self._ns_pass_due)
        if self.dirs is not None:
            timers.extend(self.dirs.rechecks)
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
            if event.nsid is not None and event.nsid not in self._unknown_nsids_seen:
                self._unknown_nsids_seen.add(event.nsid)
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
        assert self.dirs is not None
        if self.dirs.read():
            self._schedule_ns_pass(0.0)

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
            if self.dirs is not None and self.dirs.ensure():
                self._ns_pass_due = now
            with self._timed("proc_pass"):
                if self._proc_changed() or (self.discoverer is not None and self.discoverer.owners.changed()):
                    self._ns_pass_due = now  # processes moved, or a runtime's state file (a rename)
        if self.dirs is not None and self.dirs.recheck_due(now):
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
        target = self.state.address_of(place[0])
        if target is None:
            return None
        self.stats["fetches"] += 1
        try:
            link = self._rtnl.get_link(place[1], target.nsid)
            if link is None:
                return None, []
            addrs = self._rtnl.dump_addresses(target.nsid, place[1])
        except NetlinkError as exc:  # the namespace is going away: its DELNSID or a pass follows
            log.debug("cannot re-read %s: %s", place, exc)
            self._schedule_ns_pass(0.0)
            return None
        if link.link_netnsid is not None:
            self._learn_nsid(link.link_netnsid)
        return link, addrs

    def _fetch_addrs(self, place: Place) -> list[Addr] | None:
        target = self.state.address_of(place[0])
        if target is None:
            return None
        try:
            return self._rtnl.dump_addresses(target.nsid, place[1])
        except NetlinkError:
            return None

    @property
    def _rtnl(self) -> RtnlSocket:
        assert self.discoverer is not None
        return self.discoverer.rtnl

    def _learn_nsid(self, nsid: int) -> None:
        if nsid in self.state.inode_by_nsid or nsid in self._unknown_nsids_seen:
            return
        assert self.discoverer is not None
        if self.discoverer.root_self_nsid() == nsid:
            self.state.map_nsid(nsid, self.state.root_inode)
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
        if self.dirs is not None:
            self._read_inotify()
            self.dirs.settle({name for place in found for name in place.names})
        order = sorted(found, key=scan_order)
        return [f for f in order if not self._held(f)], errors, gaps

    def _held(self, place: ns_places.Found) -> bool:
        """A new namespace held only by processes while a directory entry is still becoming a
        namespace is, most likely, that entry's: `ip netns add` creates the file, moves itself
        into a new namespace, then mounts it on the file. Published now, it would first appear as
        "pid N (ip)" and then change into the named one; it waits for the entry's rechecks."""
        pending = self.dirs is not None and bool(self.dirs.pending)
        return pending and place.kind == "process" and place.inode not in self.state.namespaces

    def _report_errors(self, errors: list[str], gaps: list[str], denied: list[str]) -> None:
        errors = errors + gaps + report_denied(denied)
        complete = not gaps and not denied
        if self.state.set_errors(errors, complete):
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
                changes += state.update_namespace(self.discoverer.record(place, nsid, errors), place.path)
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
            state.set_paths(ids.paths)
            state.remember_dumps(raws)  # every stored namespace equals its dump of this pass
            self._report_errors(errors, gaps, denied)
            return []
        observed_all = [o if o is not None else state.observed(inode) for inode, o in fresh.items()]
        before = state.inventory()
        errors_before = (state.errors, state.complete)
        errors += gaps + report_denied(denied)
        state.load(observed_all, ids.inode_by_nsid, ids.paths, errors, not gaps and not denied)
        state.remember_dumps(raws)  # the state is now made of this pass's dumps alone
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
