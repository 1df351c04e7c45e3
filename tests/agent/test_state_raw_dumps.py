"""The idle reconcile's shortcut: a namespace whose fresh, undecoded dump reads exactly as the one
the state was made of is unchanged. It must never hide a difference: what the records are made
of counts, anything else (counters) does not, and an event that changed the state retires the
dump it was made of."""

from __future__ import annotations

import socket

from agent import netlink as nl
from agent.peers import ObservedNamespace, RawDump
from agent.state import TopologyState
from tests.factories import addr_body, make_namespace, message, veth_body

INODE, PEER_INODE, PEER_NSID = 4026532100, 4026532200, 3


def read(body: bytes, reader=nl.read_link):  # type: ignore[no-untyped-def]
    data = message(nl.RTM_NEWLINK, body)
    return reader(data, nl.NLMSG_HDR.size, len(data))


def raw_dump(**veth: int) -> RawDump:
    address = addr_body(socket.AF_INET, bytes([10, 0, 0, 1]), 24)
    return [read(veth_body(**veth))], [read(address, nl.read_addr)]


def observed(raw: RawDump) -> ObservedNamespace:
    return ObservedNamespace(make_namespace(INODE, nsid=7), raw=raw).decode()


def loaded(raw: RawDump) -> TopologyState:
    state = TopologyState("h1")
    peer = ObservedNamespace(make_namespace(PEER_INODE, nsid=PEER_NSID))
    state.load([observed(raw), peer], {7: INODE, PEER_NSID: PEER_INODE}, {}, [])
    return state


def test_it_takes_a_dump_that_reads_as_before_as_unchanged():
    state = loaded(raw_dump())
    assert state.unchanged(observed(raw_dump()))


def test_it_takes_a_dump_that_decodes_differently_as_changed():
    state = loaded(raw_dump())
    assert not state.unchanged(observed(raw_dump(peer=4)))
    assert not state.unchanged(observed(raw_dump(netnsid=5)))
    assert not state.unchanged(observed(raw_dump(ifindex=6)))


def test_it_ignores_what_it_does_not_decode():
    busy = veth_body().replace(b"\xff" * 100, b"\x01" * 100)  # IFLA_STATS: counters moved
    assert busy != veth_body()
    state = loaded(raw_dump())
    assert state.unchanged(observed(([read(busy)], raw_dump()[1])))


def test_it_takes_a_changed_record_or_readability_as_changed():
    state = loaded(raw_dump())
    renamed = observed(raw_dump())
    renamed.record.names = ["other"]
    assert not state.unchanged(renamed)
    unreadable = observed(raw_dump())
    unreadable.readable = False
    assert not state.unchanged(unreadable)


def test_it_retires_the_dump_once_an_event_changes_the_namespace():
    state = loaded(raw_dump())
    [link] = observed(raw_dump(peer=4)).links
    state.refresh({(INODE, link.ifindex)}, set(), lambda _place: (link, []), lambda _place: [])
    assert state.links[(INODE, link.ifindex)].link == 4
    assert not state.unchanged(observed(raw_dump()))  # the kernel went back, unannounced


def test_it_keeps_the_dump_when_a_reread_link_is_as_it_was():
    state = loaded(raw_dump())
    same = observed(raw_dump())
    [link] = same.links
    state.refresh({(INODE, link.ifindex)}, set(), lambda _place: (link, same.addresses), lambda _place: [])
    assert state.unchanged(observed(raw_dump()))


def test_it_forgets_the_dump_of_a_namespace_that_is_gone():
    state = loaded(raw_dump())
    state.remove_namespace(INODE)
    assert INODE not in state.raw
