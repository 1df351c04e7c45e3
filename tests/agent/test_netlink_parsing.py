"""The rtnetlink reader decodes what the kernel sends and never crashes on what it should not."""

from __future__ import annotations

import contextlib
import socket
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from agent import netlink as nl


def message(kind: int, body: bytes, flags: int = nl.NLM_F_MULTI, seq: int = 7) -> bytes:
    data = nl.NLMSG_HDR.pack(nl.NLMSG_HDR.size + len(body), kind, flags, seq, 0) + body
    return data + b"\0" * (-len(data) & 3)


def veth_body(ifindex: int = 5, peer: int = 2, netnsid: int | None = 3) -> bytes:
    body = nl.IFINFOMSG.pack(socket.AF_UNSPEC, 1, ifindex, nl.IFF_UP | 0x1000, 0)
    body += nl.attr(nl.IFLA_IFNAME, b"veth0\0")
    body += nl.attr(nl.IFLA_MTU, struct.pack("=I", 1500))
    body += nl.attr(nl.IFLA_OPERSTATE, bytes([6]))
    body += nl.attr(7, b"\xff" * 100)  # IFLA_STATS: skipped
    body += nl.attr(nl.IFLA_ADDRESS, bytes.fromhex("0a0b0c0d0e0f"))
    body += nl.attr(nl.IFLA_MASTER, struct.pack("=I", 9))
    body += nl.attr(nl.IFLA_IFALIAS, b"uplink\0")
    body += nl.attr(nl.IFLA_LINKINFO, nl.attr(nl.IFLA_INFO_KIND, b"veth\0"))
    if netnsid is not None:
        body += nl.attr(nl.IFLA_LINK_NETNSID, struct.pack("=i", netnsid))
    body += nl.attr(nl.IFLA_LINK, struct.pack("=I", peer))
    body += nl.attr(nl.IFLA_PROP_LIST | 0x8000, nl.attr(nl.IFLA_ALT_IFNAME, b"a-very-long-alternative-name\0"))
    return body


def addr_body(family: int, raw: bytes, prefixlen: int, scope: int = 0) -> bytes:
    body = nl.IFADDRMSG.pack(family, prefixlen, 0, scope, 5)
    return body + nl.attr(nl.IFA_ADDRESS, raw) + nl.attr(nl.IFA_LOCAL, raw)


VALID = [
    message(nl.RTM_NEWLINK, veth_body()),
    message(nl.RTM_NEWADDR, addr_body(socket.AF_INET, bytes([10, 0, 0, 1]), 24)),
    message(nl.RTM_NEWADDR, addr_body(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, "fd00::1"), 64)),
]


def test_it_decodes_every_attribute_of_a_veth_it_uses() -> None:
    data = VALID[0]
    [(kind, _flags, seq, start, end)] = list(nl.iter_messages(data, len(data)))
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


def test_it_rejects_every_truncation_of_a_valid_message_cleanly() -> None:
    for data in VALID:
        for cut in range(len(data)):
            with contextlib.suppress(nl.MalformedMessage):
                nl.decode_events(data[:cut], None)


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
