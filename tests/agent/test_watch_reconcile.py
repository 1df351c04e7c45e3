"""The periodic reconcile: it re-reads the whole host, publishes nothing when nothing changed,
and corrects whatever the events missed (here: every event, since reconcile() discards what is
queued on the event socket before it reads)."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from agent.namespaces import find_namespaces
from agent.protocol import namespace_key
from tests.agent.watch_support import difference, keys_of, pump_until

pytestmark = pytest.mark.kernel


def ours(changes: list[dict], spaces: list, prefix: str) -> list[dict]:
    """The changes about a test's own objects (other runs share this machine)."""
    inodes = {str(s.inode) for s in spaces}
    return [
        c
        for c in changes
        if c["key"].split(":")[1] in inodes or ((c["data"] or {}).get("name") or "").startswith(prefix)
    ]


def converged(w, rec, topo, spaces) -> None:
    """The state equals a fresh scan (for the test's objects) and the published stream rebuilt
    exactly the state; checked right after reconcile(), without pumping any event."""
    assert difference(w, keys_of(spaces), topo.prefix) == []
    state = w.state.inventory()
    assert rec.namespaces == {n.key: asdict(n) for n in state.namespaces}
    assert rec.interfaces == {i.key: asdict(i) for i in state.interfaces}


def addresses_of(rec, ns) -> set[str]:
    return {
        f"{a['address']}/{a['prefixlen']}"
        for i in rec.interfaces.values()
        if i["namespace"] == namespace_key(ns.inode)
        for a in i["addresses"]
    }


def test_it_publishes_nothing_for_an_unchanged_host(topo, watcher):
    w, rec = watcher
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    topo.addr(a, "v0", "10.78.0.1/24")  # links stay down: nothing settles (operstate, IPv6 DAD) later
    w.reconcile()  # takes the new namespaces in
    assert keys_of([a, b]) <= set(rec.namespaces)
    for _ in range(3):
        assert ours(w.reconcile(), [a, b], topo.prefix) == []
    converged(w, rec, topo, [a, b])


def test_it_corrects_links_addresses_and_namespaces_that_events_did_not_bring(topo, watcher):
    w, rec = watcher
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    topo.veth(topo.name("h0"), topo.root, "eth0", b)
    w.reconcile()
    spaces = [a, b]
    converged(w, rec, topo, spaces)

    topo.addr(b, "v1", "10.79.0.2/24")  # an address alone: the links are unchanged
    assert ours(w.reconcile(), spaces, topo.prefix)
    assert "10.79.0.2/24" in addresses_of(rec, b)
    converged(w, rec, topo, spaces)

    topo.mtu(a, "v0", 1400)  # a link attribute
    topo.move("v1", b, a)  # an end moves: both ends' records change
    topo.delete(topo.root, topo.name("h0"))  # a pair goes
    c = topo.add_netns("c")  # a namespace comes
    topo.veth("v2", c, topo.name("h1"), topo.root)
    spaces = [a, b, c]
    assert ours(w.reconcile(), spaces, topo.prefix)
    assert namespace_key(c.inode) in rec.namespaces
    converged(w, rec, topo, spaces)

    process = topo.process_netns()  # a namespace record changes: a name is attached
    w.reconcile()
    named = topo.attach(process, "att")
    w.reconcile()
    assert rec.namespaces[namespace_key(process.inode)]["names"] == [named.name]
    converged(w, rec, topo, [*spaces, process])


def test_it_corrects_a_change_that_was_undone_while_its_events_were_lost(topo, watcher):
    """The idle reconcile compares undecoded dumps with the dump the state was made of. A link
    that events changed and that then changed back without an event reads exactly like that old
    dump: the state must not be taken for it."""
    w, rec = watcher
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    w.reconcile()
    assert ours(w.reconcile(), [a, b], topo.prefix) == []  # the state is now this exact dump
    topo.mtu(a, "v0", 1400)
    assert pump_until(w, lambda: any(i["name"] == "v0" and i["mtu"] == 1400 for i in rec.interfaces.values()))
    topo.mtu(a, "v0", 1500)  # back to the dump the state was first made of; its event is dropped
    corrected = ours(w.reconcile(), [a, b], topo.prefix)
    assert [c["data"]["mtu"] for c in corrected if c["kind"] == "interface"] == [1500], corrected
    converged(w, rec, topo, [a, b])


def test_it_reads_an_idle_namespace_as_unchanged_without_decoding_it(topo, watcher):
    w, _rec = watcher
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    topo.addr(a, "v0", "10.77.0.1/24")
    w.reconcile()
    w.reconcile()  # whatever the first one took in by decoding, the state is now made of dumps
    places = [f for f in find_namespaces([], [], w.named_dirs) if f.inode in (a.inode, b.inode)]
    assert w.discoverer is not None and len(places) == 2
    for observed in w.discoverer.observe_all(places, [], [], decode=False):
        assert observed is not None and observed.links == [], "observe_all(decode=False) decoded"
        assert w.state.unchanged(observed), f"a dump of the idle namespace {observed.record.names} reads differently"
