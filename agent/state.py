"""The agent's raw kernel view and the records derived from it: pure bookkeeping, no I/O.

The watcher (agent/watch.py) feeds it full scans, re-read links and namespace changes, and
publishes the changes it returns; everything here is unit-tested without root
(tests/agent/test_state_incremental.py, tests/agent/test_state_raw_dumps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from agent.discovery import scan_order
from agent.netlink import Addr, Link
from agent.peers import ObservedNamespace, RawDump, assemble_interfaces
from agent.protocol import Change, Interface, Inventory, Namespace, removal, upsert

Place = tuple[int, int]  # (namespace inode, ifindex)
Token = tuple[str, int, int]  # ("i", inode, ifindex) or ("n", nsid, ifindex): where a link points


@dataclass(frozen=True, slots=True)
class Target:
    """How netlink requests address a namespace: by its id in root (None: root itself)."""

    nsid: int | None


ROOT = Target(None)


class TopologyState:
    """The raw kernel view (links and addresses per place) and the records derived from it."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._reset()

    def _reset(self) -> None:
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
        self._reset()
        self.errors = list(errors)
        self.complete = complete
        for nsid, inode in inode_by_nsid.items():
            self.map_nsid(nsid, inode)
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

    def set_errors(self, errors: list[str], complete: bool) -> bool:
        """Store what the last pass could not see; True when that differs from before."""
        if (errors, complete) == (self.errors, self.complete):
            return False
        self.errors, self.complete = list(errors), complete
        return True

    def set_paths(self, paths: dict[int, str]) -> None:
        """The path each namespace was opened by in the last pass."""
        self.paths = paths

    def remember_dumps(self, raws: dict[int, RawDump]) -> None:
        """The raw dumps the stored links and addresses are now exactly made of (a reconcile's)."""
        self.raw = raws

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

    def map_nsid(self, nsid: int, inode: int) -> None:
        """Know ``nsid`` (in root's id space) as the namespace ``inode``."""
        old = self.inode_by_nsid.get(nsid)
        if old is not None and old != inode:
            self.nsids_of.get(old, set()).discard(nsid)
        self.inode_by_nsid[nsid] = inode
        self.nsids_of.setdefault(inode, set()).add(nsid)

    def address_of(self, inode: int) -> Target | None:
        """How to ask the kernel about ``inode``'s links (its lowest id); None when it has no id."""
        if inode == self.root_inode:
            return ROOT
        nsids = self.nsids_of.get(inode)
        return Target(min(nsids)) if nsids else None

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

    def apply_links(self, fetched: Mapping[Place, tuple[Link | None, list[Addr]]]) -> set[Place]:
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
                    changes.append(removal("interface", old.key))
            elif new != old:
                self.interfaces[place] = new
                changes.append(upsert(new))
        return changes

    def add_namespace(self, observed: ObservedNamespace, path: str) -> list[Change]:
        """A namespace found after the scan, with its links already dumped."""
        record = observed.record
        inode = record.inode
        changes: list[Change] = [upsert(record)]
        self.namespaces[inode] = record
        self.paths[inode] = path
        self.places_of.setdefault(inode, set())
        if record.nsid is not None:
            self.map_nsid(record.nsid, inode)
        by_index = _addrs_by_ifindex(observed.addresses)
        fetched = {(inode, link.ifindex): (link, by_index.get(link.ifindex, [])) for link in observed.links}
        affected = self.apply_links(fetched)
        if record.nsid is not None:  # links elsewhere that named this id before it was known
            for token, holders in list(self.refs.items()):
                if token[0] == "n" and token[1] == record.nsid:
                    affected |= holders
        return changes + self.recompute(affected)

    def update_namespace(self, record: Namespace, path: str | None = None) -> list[Change]:
        """Names, pids or container id changed (and the path it is opened by, when given); links
        are untouched."""
        old = self.namespaces.get(record.inode)
        if old is not None and path is not None:
            self.paths[record.inode] = path
        if old is None or old == record:
            return []
        self.namespaces[record.inode] = record
        return [upsert(record)]

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
            changes.append(removal("interface", self.interfaces.pop(place).key))
        del self.namespaces[inode]
        self.paths.pop(inode, None)
        self.places_of.pop(inode, None)
        self.raw.pop(inode, None)
        changes.append(removal("namespace", record.key))
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
