"""The rtnetlink reader decodes what the kernel sends and never crashes on what it should not."""

from __future__ import annotations

import contextlib
import socket
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from agent import netlink as nl
from tests.factories import addr_body, message, veth_body

VALID = [
    message(nl.RTM_NEWLINK, veth_body()),
    message(nl.RTM_NEWADDR, addr_body(socket.AF_INET, bytes([10, 0, 0, 1]), 24)),
    message(nl.RTM_NEWADDR, addr_body(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, "fd00::1"), 64)),
]


def test_it_decodes_every_attribute_of_a_veth_it_uses() -> None:
    data = VALID[0]
    [(kind, _flags, seq, start, end)] = list(nl.messages(data, len(data)))
    link = nl.parse_link(data, start, end)
    assert (kind, seq) == (nl.RTM_NEWLINK, 7)
    assert link == nl.Link(
        ifindex=5,
        name="veth0",
        kind="veth",
        flags=nl.IFF_UP | 0x1000,
        mac="0a:0b:0c:0d:0e:0f",
        mtu=1500,
        operstate="UP",
        master=9,
        link=2,
        link_netnsid=3,
        alias="uplink",
        altnames=["a-very-long-alternative-name"],
    )


def test_it_calls_a_link_without_kind_a_device_or_loopback() -> None:
    plain = nl.IFINFOMSG.pack(0, 1, 2, 0, 0) + nl.attr(nl.IFLA_IFNAME, b"eth0\0")
    loop = nl.IFINFOMSG.pack(0, 772, 1, nl.IFF_LOOPBACK, 0) + nl.attr(nl.IFLA_IFNAME, b"lo\0")
    assert nl.parse_link(plain, 0, len(plain)).kind == "device"
    assert nl.parse_link(loop, 0, len(loop)).kind == "loopback"


def test_it_decodes_ipv4_and_ipv6_addresses_with_prefix_and_scope() -> None:
    decoded = [nl.parse_addr(m, 16, len(m)) for m in VALID[1:]]
    assert [(a.family, a.address, a.prefixlen, a.scope) for a in decoded] == [
        (4, "10.0.0.1", 24, "global"),
        (6, "fd00::1", 64, "global"),
    ]


def test_it_reads_move_and_nsid_events() -> None:
    moved = nl.IFINFOMSG.pack(0, 1, 4, 0, 0) + nl.attr(nl.IFLA_IFNAME, b"x\0")
    moved += nl.attr(nl.IFLA_NEW_NETNSID, struct.pack("=i", 12)) + nl.attr(nl.IFLA_NEW_IFINDEX, struct.pack("=i", 40))
    nsid = nl.RTGENMSG.pack(0) + nl.attr(nl.NETNSA_NSID, struct.pack("=i", 12))
    events = nl.decode_events(message(nl.RTM_DELLINK, moved, 0) + message(nl.RTM_DELNSID, nsid, 0), nsid=3)
    assert [(e.type, e.nsid) for e in events] == [(nl.RTM_DELLINK, 3), (nl.RTM_DELNSID, 3)]
    assert (events[0].link.new_netnsid, events[0].link.new_ifindex) == (12, 40)
    assert events[1].subject_nsid == 12


def test_it_leaves_the_bridges_own_port_news_out_of_the_events() -> None:
    port = veth_body()
    bridge_news = bytes([socket.AF_BRIDGE]) + port[1:]  # the same port, as the bridge reports its state
    events = nl.decode_events(message(nl.RTM_NEWLINK, bridge_news) + message(nl.RTM_NEWLINK, port), None)
    assert [(e.type, e.link.ifindex) for e in events] == [(nl.RTM_NEWLINK, 5)]


def test_it_rejects_every_truncation_of_a_valid_message_cleanly() -> None:
    """A tail shorter than a netlink header is no message (nothing decoded); a cut after the header
    but inside the message leaves it shorter than its length field says: MalformedMessage; only
    its alignment padding may go."""
    for data in VALID:
        declared = nl.NLMSG_HDR.unpack_from(data)[0]
        for cut in range(len(data)):
            if cut < nl.NLMSG_HDR.size or cut >= declared:
                events = nl.decode_events(data[:cut], None)
                want = 0 if cut < nl.NLMSG_HDR.size else 1
                assert len(events) == want, f"{cut} of {len(data)} bytes decoded to {events}, expected {want} event(s)"
                continue
            try:
                events = nl.decode_events(data[:cut], None)
            except nl.MalformedMessage:
                continue
            raise AssertionError(f"a message cut to {cut} of {len(data)} bytes was accepted: {events}")


def test_it_rejects_an_attribute_that_overruns_its_message() -> None:
    body = nl.IFINFOMSG.pack(0, 1, 2, 0, 0) + nl.NLATTR.pack(200, nl.IFLA_IFNAME) + b"eth0"
    try:
        nl.parse_link(body, 0, len(body))
    except nl.MalformedMessage as exc:
        assert "overruns" in str(exc)
    else:
        raise AssertionError("an overrunning attribute was accepted")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_it_never_raises_anything_but_malformed_on_random_bytes(data: bytes) -> None:
    with contextlib.suppress(nl.MalformedMessage):
        nl.decode_events(data, None)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8))
def test_it_never_raises_anything_but_malformed_on_corrupted_messages(
    data: bytes, flips: list[tuple[int, int]]
) -> None:
    corrupted = bytearray(data)
    for position, value in flips:
        corrupted[position % len(corrupted)] = value
    with contextlib.suppress(nl.MalformedMessage):
        nl.decode_events(bytes(corrupted), None)


# -- remembered shapes (agent/netlink.py, "shapes") ----------------------------------------------
#
# parse_link and parse_addr remember where a message of a given length keeps its attributes and
# reuse that only when every attribute header reads the same. Whatever was remembered before, a
# message must decode exactly as a fresh walk decodes it (the fresh cache below): these tests keep
# one cache across many small messages, so that lengths collide and shapes get reused or refused.


def outcome(parse, data: bytes, layouts: nl.LayoutCache) -> object:
    try:
        return parse(data, 0, len(data), layouts)
    except nl.MalformedMessage:
        return "malformed"


def nested(kind: int, children: list[tuple[int, bytes]]) -> bytes:
    return nl.attr(kind | 0x8000, b"".join(nl.attr(sub, payload) for sub, payload in children))


LINK_ATTRS = [nl.IFLA_ADDRESS, nl.IFLA_IFNAME, nl.IFLA_MTU, nl.IFLA_LINK, nl.IFLA_MASTER, nl.IFLA_OPERSTATE]
LINK_ATTRS += [nl.IFLA_IFALIAS, nl.IFLA_LINK_NETNSID, nl.IFLA_NEW_NETNSID, nl.IFLA_NEW_IFINDEX, 7, 99]
SMALL = st.binary(max_size=8)  # short payloads: messages of equal length come often
LINK_ATTR = st.one_of(
    st.builds(nl.attr, st.sampled_from(LINK_ATTRS), SMALL),
    st.builds(
        nested,
        st.just(nl.IFLA_LINKINFO),
        st.lists(st.tuples(st.sampled_from([nl.IFLA_INFO_KIND, 2, nl.IFLA_INFO_SLAVE_KIND]), SMALL), max_size=3),
    ),
    st.builds(nested, st.just(nl.IFLA_PROP_LIST), st.lists(st.tuples(st.just(nl.IFLA_ALT_IFNAME), SMALL), max_size=3)),
)
LINK_MESSAGE = st.builds(
    lambda flags, attrs: nl.IFINFOMSG.pack(0, 1, 3, flags, 0) + b"".join(attrs),
    st.sampled_from([0, nl.IFF_UP, nl.IFF_LOOPBACK]),
    st.lists(LINK_ATTR, max_size=8),
)
ADDR_MESSAGE = st.builds(
    lambda family, attrs: nl.IFADDRMSG.pack(family, 24, 0, 0, 5) + b"".join(attrs),
    st.sampled_from([socket.AF_INET, socket.AF_INET6, 0]),
    st.lists(
        st.builds(
            nl.attr,
            st.sampled_from([nl.IFA_ADDRESS, nl.IFA_LOCAL, 3, 8]),
            st.sampled_from([bytes(4), bytes([10, 0, 0, 1]), bytes(16), b"\x01" * 16, b"", b"eth0\0"]),
        ),
        max_size=5,
    ),
)
SHARED_LINK_LAYOUTS = nl.LayoutCache(nl.LINK_SHAPE)
SHARED_ADDR_LAYOUTS = nl.LayoutCache(nl.ADDR_SHAPE)


def corrupt(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    corrupted = bytearray(data)
    for position, value in flips:
        if corrupted:
            corrupted[position % len(corrupted)] = value
    return bytes(corrupted)


FLIPS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3)


@settings(max_examples=1500, deadline=None)
@given(LINK_MESSAGE, FLIPS)
def test_it_decodes_a_link_from_a_remembered_shape_exactly_as_from_a_fresh_walk(data: bytes, flips) -> None:
    for candidate in (data, corrupt(data, flips)):
        fresh = outcome(nl.parse_link, candidate, nl.LayoutCache(nl.LINK_SHAPE))
        assert outcome(nl.parse_link, candidate, SHARED_LINK_LAYOUTS) == fresh


@settings(max_examples=800, deadline=None)
@given(ADDR_MESSAGE, FLIPS)
def test_it_decodes_an_address_from_a_remembered_shape_exactly_as_from_a_fresh_walk(data: bytes, flips) -> None:
    for candidate in (data, corrupt(data, flips)):
        fresh = outcome(nl.parse_addr, candidate, nl.LayoutCache(nl.ADDR_SHAPE))
        assert outcome(nl.parse_addr, candidate, SHARED_ADDR_LAYOUTS) == fresh


def test_it_does_not_reuse_a_shape_whose_attributes_sit_elsewhere() -> None:
    layouts = nl.LayoutCache(nl.LINK_SHAPE)
    head = nl.IFINFOMSG.pack(0, 1, 2, 0, 0)
    name, mtu = nl.attr(nl.IFLA_IFNAME, b"ab\0"), nl.attr(nl.IFLA_MTU, struct.pack("=I", 1500))
    master = nl.attr(nl.IFLA_MASTER, struct.pack("=I", 9))
    first, second = head + name + mtu, head + mtu + name  # same length, swapped places
    third = head + name + master  # same length and places, another attribute in the second
    decoded = [nl.parse_link(m, 0, len(m), layouts) for m in (first, second, third, first)]
    assert [(link.name, link.mtu, link.master) for link in decoded] == [
        ("ab", 1500, None),
        ("ab", 1500, None),
        ("ab", None, 9),
        ("ab", 1500, None),
    ]
    assert layouts.count == 3


def test_it_reads_new_values_through_a_remembered_shape() -> None:
    layouts = nl.LayoutCache(nl.LINK_SHAPE)
    one, other = message(nl.RTM_NEWLINK, veth_body(5, 2, 3)), message(nl.RTM_NEWLINK, veth_body(6, 40, 7))
    links = [nl.parse_link(m, 16, len(m), layouts) for m in (one, other)]
    assert [(link.ifindex, link.link, link.link_netnsid) for link in links] == [(5, 2, 3), (6, 40, 7)]
    assert layouts.count == 1, "the second veth has the first one's shape"


def test_it_starts_over_when_it_remembers_too_many_shapes() -> None:
    layouts = nl.LayoutCache(nl.LINK_SHAPE, limit=4)
    for length in range(1, 10):
        data = nl.IFINFOMSG.pack(0, 1, 2, 0, 0) + nl.attr(nl.IFLA_IFNAME, b"x" * length + b"\0")
        assert nl.parse_link(data, 0, len(data), layouts).name == "x" * length
        assert layouts.count <= 4
