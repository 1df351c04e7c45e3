"""The watcher's incremental bookkeeping equals a full re-assembly after any sequence of changes.

A model kernel with namespaces and veth pairs produces exactly the notifications the real one
sends (a moved end: DELLINK in the old namespace and NEWLINK in the new one, nothing for the
partner; a deleted pair: both ends; a destroyed namespace: nothing from inside it). After every
step the incrementally maintained records must equal `assemble_interfaces` over everything.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.netlink import Addr, Link
from agent.peers import ObservedNamespace, assemble_interfaces
from agent.protocol import Namespace, namespace_key
from agent.state import Place, TopologyState

ROOT, ROOT_SELF_NSID = 1000, 99


class ModelKernel:
    def __init__(self, count: int) -> None:
        self.nsid: dict[int, int | None] = {ROOT: ROOT_SELF_NSID}
        for n in range(count):
            self.nsid[2000 + n] = n
        self.next_index = dict.fromkeys(self.nsid, 2)
        self.peer: dict[Place, Place] = {}
        self.names: dict[Place, str] = {}
        self.addrs: dict[Place, list[Addr]] = {}

    def alloc(self, inode: int) -> Place:
        self.next_index[inode] += 1
        return (inode, self.next_index[inode])

    def link(self, place: Place) -> Link | None:
        if place not in self.peer:
            return None
        other = self.peer[place]
        netnsid = None if other[0] == place[0] else self.nsid[other[0]]
        return Link(ifindex=place[1], name=self.names[place], kind="veth", link=other[1], link_netnsid=netnsid)

    def fetch(self, place: Place) -> tuple[Link | None, list[Addr]]:
        link = self.link(place)
        return link, list(self.addrs.get(place, [])) if link else []

    def record(self, inode: int) -> Namespace:
        kind = "root" if inode == ROOT else "named"
        nsid = None if inode == ROOT else self.nsid[inode]
        return Namespace(namespace_key(inode), inode, 4, kind, names=[] if inode == ROOT else [f"n{inode}"], nsid=nsid)

    def observed(self, inode: int) -> ObservedNamespace:
        ns = ObservedNamespace(self.record(inode))
        places = sorted(p for p in self.peer if p[0] == inode)
        ns.links = [self.link(p) for p in places]  # type: ignore[misc]
        ns.addresses = [a for p in places for a in self.addrs.get(p, [])]
        return ns

    def inode_by_nsid(self) -> dict[int, int]:
        return {nsid: inode for inode, nsid in self.nsid.items() if nsid is not None}

    def truth(self) -> dict[str, object]:
        observed = [self.observed(i) for i in sorted(self.nsid)]
        return {i.key: i for i in assemble_interfaces(observed, self.inode_by_nsid())}


def fresh_state(kernel: ModelKernel) -> TopologyState:
    state = TopologyState("h1")
    observed = [kernel.observed(i) for i in sorted(kernel.nsid)]
    state.load(observed, kernel.inode_by_nsid(), {}, [])
    return state


def refresh(state: TopologyState, kernel: ModelKernel, links: set[Place], addrs: set[Place] = frozenset()):  # type: ignore[assignment]
    return state.refresh(set(links), set(addrs), kernel.fetch, lambda p: kernel.fetch(p)[1])


def current(state: TopologyState) -> dict[str, object]:
    return {i.key: i for i in state.interfaces.values()}


ops = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(ops)
def test_it_matches_a_full_reassembly_after_every_step(steps):
    kernel = ModelKernel(4)
    state = fresh_state(kernel)
    for op, x, y in steps:
        inodes = sorted(kernel.nsid)
        ends = sorted(kernel.peer)
        if op in (0, 1) or not ends:  # create a pair between two namespaces (maybe the same one)
            a, b = kernel.alloc(inodes[x % len(inodes)]), kernel.alloc(inodes[y % len(inodes)])
            kernel.peer[a], kernel.peer[b] = b, a
            kernel.names[a], kernel.names[b] = f"a{x}", f"b{y}"
            events = {a, b}
        elif op == 2:  # delete a pair: DELLINK on both sides
            a = ends[x % len(ends)]
            b = kernel.peer.pop(a)
            kernel.peer.pop(b)
            events = {a, b}
        elif op == 3:  # move an end: only the old and the new place hear about it
            old = ends[x % len(ends)]
            new = kernel.alloc(inodes[y % len(inodes)])
            other = kernel.peer.pop(old)
            kernel.peer[new], kernel.peer[other] = other, new
            kernel.names[new] = kernel.names[old]
            kernel.addrs.pop(old, None)
            events = {old, new}
        elif op == 4:  # rename
            place = ends[x % len(ends)]
            kernel.names[place] = f"r{y}"
            events = {place}
        elif op == 5:  # an address
            place = ends[x % len(ends)]
            kernel.addrs.setdefault(place, []).append(Addr(place[1], 4, f"10.0.{x}.{y}", 24, "global"))
            refresh(state, kernel, set(), {place})
            assert current(state) == kernel.truth()
            continue
        else:  # destroy a non-root namespace: its veths die, only the far ends report
            victims = [i for i in inodes if i != ROOT]
            if not victims:
                continue
            inode = victims[x % len(victims)]
            inside = [p for p in kernel.peer if p[0] == inode]
            far = {kernel.peer[p] for p in inside if kernel.peer[p][0] != inode}
            for p in inside:
                other = kernel.peer.pop(p, None)
                if other is not None:
                    kernel.peer.pop(other, None)
            del kernel.nsid[inode]
            state.remove_namespace(inode)
            refresh(state, kernel, far)
            assert current(state) == kernel.truth()
            continue
        refresh(state, kernel, events)
        assert current(state) == kernel.truth()


def test_it_reresolves_the_unmoved_end_of_a_moved_veth():
    kernel = ModelKernel(3)
    a, b = kernel.alloc(2000), kernel.alloc(2001)
    kernel.peer[a], kernel.peer[b] = b, a
    kernel.names[a], kernel.names[b] = "v0", "v1"
    state = fresh_state(kernel)
    new = kernel.alloc(2002)
    kernel.peer.pop(b)
    kernel.peer[new], kernel.peer[a] = a, new
    kernel.names[new] = "v1"
    changes = refresh(state, kernel, {b, new})  # no event for a
    by_key = {c["key"]: c for c in changes}
    assert by_key["if:2000:3"]["data"]["peer"] == "if:2002:3"
    assert by_key["if:2001:3"]["op"] == "remove"
    assert by_key["if:2002:3"]["data"]["peer"] == "if:2000:3"


def test_it_resolves_links_that_named_a_namespace_before_it_was_known():
    kernel = ModelKernel(2)
    a, b = kernel.alloc(ROOT), kernel.alloc(2001)
    kernel.peer[a], kernel.peer[b] = b, a
    kernel.names[a], kernel.names[b] = "h0", "eth0"
    hidden = {i: n for i, n in kernel.nsid.items() if i != 2001}
    state = TopologyState("h1")
    state.load([kernel.observed(i) for i in sorted(hidden)], {n: i for i, n in hidden.items() if n is not None}, {}, [])
    assert state.interfaces[a].peer_status == "unresolved"
    changes = state.add_namespace(kernel.observed(2001), "/run/netns/n2001")
    assert changes[0]["kind"] == "namespace"
    assert state.interfaces[a].peer == "if:2001:3"
    assert current(state) == kernel.truth()


def test_it_turns_ends_unresolved_when_their_namespace_disappears():
    kernel = ModelKernel(2)
    a, b = kernel.alloc(ROOT), kernel.alloc(2001)
    kernel.peer[a], kernel.peer[b] = b, a
    kernel.names[a], kernel.names[b] = "h0", "eth0"
    state = fresh_state(kernel)
    changes = state.remove_namespace(2001)
    assert [c["op"] for c in changes if c["kind"] == "namespace"] == ["remove"]
    assert changes[-1]["kind"] == "namespace"  # interfaces leave before their namespace
    assert state.interfaces[a].peer_status == "unresolved"
    assert 2001 not in state.namespaces and not any(p[0] == 2001 for p in state.interfaces)


def test_it_updates_a_namespace_record_without_touching_interfaces():
    kernel = ModelKernel(1)
    state = fresh_state(kernel)
    record = replace(state.namespaces[2000], names=["renamed"])
    assert state.update_namespace(record)[0]["data"]["names"] == ["renamed"]
    assert state.update_namespace(record) == []
