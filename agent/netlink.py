"""A small typed rtnetlink reader: bulk dumps of links and addresses, nsid lookups, events.

Why not pyroute2 here: it parses at 150-350 us per link; this reader decodes only the attributes
nsmap uses, with struct, at about 10 us per link (DESIGN.md, "Measured"). pyroute2 stays the
library for changing things.

One socket in the root namespace observes every namespace: each namespace gets an id in the root
namespace (RTM_NEWNSID, like `ip netns set NAME auto`) and is dumped with IFLA_TARGET_NETNSID /
IFA_TARGET_NETNSID. The kernel then reports IFLA_LINK_NETNSID in the *requester's* id space, so
peers resolve without per-namespace translation (rtnl_fill_link_netnsid uses the socket's net).

Kernel constants come from include/uapi/linux/{netlink,rtnetlink,if_link,if_addr,net_namespace}.h.
Every parse function raises MalformedMessage on truncated or corrupt input, never anything else.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

# netlink.h
NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_LISTEN_ALL_NSID = 8
NETLINK_CAP_ACK = 10
NETLINK_GET_STRICT_CHK = 12
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 1, 2, 3, 4
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP_INTR = 0x1, 0x2, 0x4, 0x10
NLM_F_DUMP = 0x300
NLMSG_HDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid

# rtnetlink.h: message types and multicast groups (group numbers, not bit masks)
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWNSID, RTM_DELNSID, RTM_GETNSID = 88, 89, 90
RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_NSID = 1, 5, 9, 28

IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
RTGENMSG = struct.Struct("=Bxxx")  # family, padded to 4 (NLMSG_ALIGN)
NLATTR = struct.Struct("=HH")  # len, type
NLA_TYPE_MASK = 0x3FFF  # strips NLA_F_NESTED / NLA_F_NET_BYTEORDER

# if_link.h
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_IFALIAS = 16, 18, 20
IFLA_LINK_NETNSID, IFLA_NEW_NETNSID, IFLA_TARGET_NETNSID = 37, 45, 46
IFLA_NEW_IFINDEX, IFLA_PROP_LIST, IFLA_ALT_IFNAME = 49, 52, 53
IFLA_INFO_KIND, IFLA_INFO_SLAVE_KIND = 1, 4
LINK_ATTRS = frozenset(
    {IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_IFALIAS}
    | {IFLA_LINK_NETNSID, IFLA_NEW_NETNSID, IFLA_NEW_IFINDEX, IFLA_PROP_LIST}
)
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
IFF_UP, IFF_LOOPBACK = 0x1, 0x8

# if_addr.h
IFA_ADDRESS, IFA_LOCAL, IFA_TARGET_NETNSID = 1, 2, 10
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}

# net_namespace.h
NETNSA_NSID, NETNSA_FD = 1, 3
NETNSA_NSID_NOT_ASSIGNED = -1

RECV_BUFFER = 1 << 20
SO_RCVBUFFORCE = 33  # asm-generic/socket.h
DUMP_RETRIES = 5


class MalformedMessage(ValueError):
    """Truncated or corrupt netlink data."""


class NetlinkError(OSError):
    """The kernel answered a request with an error code."""


class Overflow(OSError):
    """The event socket's buffer overflowed (ENOBUFS): events were lost, rescan."""


@dataclass(slots=True)
class Link:
    ifindex: int
    name: str
    kind: str
    flags: int = 0
    mac: str | None = None
    mtu: int | None = None
    operstate: str = "UNKNOWN"
    master: int | None = None
    link: int | None = None  # IFLA_LINK: the peer's (or lower device's) ifindex
    link_netnsid: int | None = None  # where that ifindex lives, in the requester's id space
    alias: str | None = None
    altnames: list[str] = field(default_factory=list)
    new_netnsid: int | None = None  # on RTM_DELLINK when the device moved to another namespace
    new_ifindex: int | None = None


@dataclass(slots=True)
class Addr:
    ifindex: int
    family: int
    address: str
    prefixlen: int
    scope: str


@dataclass(slots=True)
class Event:
    """One notification: ``nsid`` is the source namespace's id in root (None: root itself)."""

    type: int
    nsid: int | None
    link: Link | None = None
    addr: Addr | None = None
    subject_nsid: int | None = None  # for RTM_NEWNSID/RTM_DELNSID: the id that came or went


def iter_attrs(buf: bytes | memoryview, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Yield (type, payload start, payload end) of each netlink attribute in buf[start:end]."""
    pos = start
    while pos + 4 <= end:
        length, kind = NLATTR.unpack_from(buf, pos)
        if length < 4 or pos + length > end:
            raise MalformedMessage(f"attribute length {length} at offset {pos} overruns {end}")
        yield kind & NLA_TYPE_MASK, pos + 4, pos + length
        pos += (length + 3) & ~3


def _string(buf: bytes | memoryview, start: int, end: int) -> str:
    raw = bytes(buf[start:end])
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _u32(buf: bytes | memoryview, start: int, end: int) -> int:
    if end - start < 4:
        raise MalformedMessage("u32 attribute too short")
    return int.from_bytes(buf[start : start + 4], sys.byteorder)


def _s32(buf: bytes | memoryview, start: int, end: int) -> int:
    if end - start < 4:
        raise MalformedMessage("s32 attribute too short")
    return int.from_bytes(buf[start : start + 4], sys.byteorder, signed=True)


def parse_link(buf: bytes | memoryview, start: int, end: int) -> Link:
    """Decode an ifinfomsg and the attributes nsmap uses; ``start`` points past nlmsghdr.

    This is the inventory's hot path: a veth's RTM_NEWLINK carries about 40 attributes of
    which we want a dozen. Attributes start 4-aligned, so the message is walked as a list of
    32-bit words (len | type << 16), which CPython does about twice as fast as unpacking each
    header, and 32-bit values are read straight from that list.
    """
    if end - start < IFINFOMSG.size:
        raise MalformedMessage("ifinfomsg truncated")
    _family, _type, ifindex, flags, _change = IFINFOMSG.unpack_from(buf, start)
    base = start + IFINFOMSG.size
    size = end - base
    words = memoryview(buf)[base : base + (size & ~3)].cast("I")
    wanted = LINK_ATTRS
    found: dict[int, int] = {}  # attribute type -> index of its header word
    count = len(words)
    i = last = 0
    while i < count:
        word = words[i]
        length = word & 0xFFFF
        if length < 4:
            raise MalformedMessage(f"attribute length {length} at offset {base + i * 4}")
        if (word >> 16) & NLA_TYPE_MASK in wanted:
            found[(word >> 16) & NLA_TYPE_MASK] = i
        last = i
        i += (length + 3) >> 2
    if count and last * 4 + (words[last] & 0xFFFF) > size:  # only the last one walked can overrun
        raise MalformedMessage(f"attribute at offset {base + last * 4} overruns the message")

    def u32(kind: int) -> int | None:
        at = found.get(kind)
        if at is None:
            return None
        if words[at] & 0xFFFF < 8:
            raise MalformedMessage(f"attribute {kind} too short for a 32-bit value")
        return words[at + 1]

    def span(kind: int) -> tuple[int, int]:
        at = found[kind]
        return base + at * 4 + 4, base + at * 4 + (words[at] & 0xFFFF)

    link = Link(ifindex=ifindex, name="", kind="", flags=flags)
    link.mtu = u32(IFLA_MTU)
    link.link = u32(IFLA_LINK)
    link.master = u32(IFLA_MASTER) or None
    link.link_netnsid = _signed(u32(IFLA_LINK_NETNSID))
    if IFLA_IFNAME in found:
        link.name = _string(buf, *span(IFLA_IFNAME))
    if IFLA_ADDRESS in found:
        a, b = span(IFLA_ADDRESS)
        link.mac = bytes(buf[a:b]).hex(":") if b > a else None
    if IFLA_OPERSTATE in found:
        a, b = span(IFLA_OPERSTATE)
        if b <= a:
            raise MalformedMessage("operstate attribute empty")
        link.operstate = OPERSTATES[buf[a]] if buf[a] < len(OPERSTATES) else "UNKNOWN"
    if IFLA_LINKINFO in found:
        for sub, c, d in iter_attrs(buf, *span(IFLA_LINKINFO)):
            if sub == IFLA_INFO_KIND:
                link.kind = _string(buf, c, d)
    if IFLA_IFALIAS in found:
        link.alias = _string(buf, *span(IFLA_IFALIAS)) or None
    if IFLA_NEW_NETNSID in found:
        link.new_netnsid = _signed(u32(IFLA_NEW_NETNSID))
        link.new_ifindex = _signed(u32(IFLA_NEW_IFINDEX))
    if IFLA_PROP_LIST in found:
        a, b = span(IFLA_PROP_LIST)
        link.altnames = [_string(buf, c, d) for sub, c, d in iter_attrs(buf, a, b) if sub == IFLA_ALT_IFNAME]
    if not link.kind:
        link.kind = "loopback" if flags & IFF_LOOPBACK else "device"
    return link


def _signed(value: int | None) -> int | None:
    return None if value is None else value - (1 << 32) if value & 0x80000000 else value


def parse_addr(buf: bytes | memoryview, start: int, end: int) -> Addr:
    """Decode an ifaddrmsg: IFA_LOCAL is the address itself (IFA_ADDRESS is the peer on p2p)."""
    if end - start < IFADDRMSG.size:
        raise MalformedMessage("ifaddrmsg truncated")
    family, prefixlen, _flags, scope, ifindex = IFADDRMSG.unpack_from(buf, start)
    local = address = None
    for kind, a, b in iter_attrs(buf, start + IFADDRMSG.size, end):
        if kind == IFA_LOCAL:
            local = bytes(buf[a:b])
        elif kind == IFA_ADDRESS:
            address = bytes(buf[a:b])
    raw = local or address
    if family not in (socket.AF_INET, socket.AF_INET6) or raw is None:
        raise MalformedMessage(f"address of family {family} without an address attribute")
    if len(raw) != (4 if family == socket.AF_INET else 16):
        raise MalformedMessage("address attribute of the wrong length")
    return Addr(
        ifindex=ifindex,
        family=4 if family == socket.AF_INET else 6,
        address=socket.inet_ntop(family, raw),
        prefixlen=prefixlen,
        scope=SCOPES.get(scope, str(scope)),
    )


def iter_messages(buf: bytes | memoryview, size: int) -> Iterator[tuple[int, int, int, int, int]]:
    """Yield (type, flags, seq, payload start, message end) for each message in buf[:size]."""
    pos = 0
    while pos + NLMSG_HDR.size <= size:
        length, kind, flags, seq, _pid = NLMSG_HDR.unpack_from(buf, pos)
        if length < NLMSG_HDR.size or pos + length > size:
            raise MalformedMessage(f"message length {length} at offset {pos} overruns {size}")
        yield kind, flags, seq, pos + NLMSG_HDR.size, pos + length
        pos += (length + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    length = NLATTR.size + len(payload)
    return NLATTR.pack(length, kind) + payload + b"\0" * (-length & 3)


def _error_code(buf: bytes | memoryview, start: int, end: int) -> int:
    if end - start < 4:
        raise MalformedMessage("error message truncated")
    return -int.from_bytes(buf[start : start + 4], sys.byteorder, signed=True)


class RtnlSocket:
    """A request/response NETLINK_ROUTE socket in the namespace where it was created."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
            # strict checking is what makes the kernel honour IFA_TARGET_NETNSID in address dumps
            self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
            self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
            self.sock.bind((0, 0))
        except OSError:
            self.sock.close()
            raise
        self.buffer = bytearray(RECV_BUFFER)
        self.seq = 0
        self.malformed = 0  # messages skipped because they could not be decoded

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RtnlSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, kind: int, flags: int, body: bytes) -> int:
        self.seq += 1
        self.sock.send(NLMSG_HDR.pack(NLMSG_HDR.size + len(body), kind, flags, self.seq, 0) + body)
        return self.seq

    def _responses(self, seq: int) -> Iterator[tuple[int, int, memoryview, int, int]]:
        """Yield (type, flags, buffer, start, end) answering ``seq`` until DONE or an ack."""
        view = memoryview(self.buffer)
        while True:
            size = self.sock.recv_into(self.buffer)
            for kind, flags, msg_seq, start, end in iter_messages(view, size):
                if msg_seq != seq:
                    continue  # a late answer to an abandoned request
                if kind == NLMSG_ERROR:
                    code = _error_code(view, start, end)
                    if code:
                        raise NetlinkError(code, os.strerror(code))
                    return
                if kind == NLMSG_DONE:
                    # a dump that failed (no permission for the target, say) ends in DONE
                    # carrying the negative errno instead of an NLMSG_ERROR
                    code = _error_code(view, start, end) if end - start >= 4 else 0
                    if code > 0:
                        raise NetlinkError(code, os.strerror(code))
                    if flags & NLM_F_DUMP_INTR:
                        raise InterruptedError("dump interrupted")
                    return
                yield kind, flags, view, start, end
                if not flags & NLM_F_MULTI:
                    return

    def _dump(self, kind: int, body: bytes, want: int, parse):  # type: ignore[no-untyped-def]
        """Run one dump, retried while the kernel flags it inconsistent (NLM_F_DUMP_INTR)."""
        for attempt in range(DUMP_RETRIES):
            seq = self._send(kind, NLM_F_REQUEST | NLM_F_DUMP, body)
            items = []
            interrupted = False
            try:
                for msg_kind, flags, view, start, end in self._responses(seq):
                    interrupted |= bool(flags & NLM_F_DUMP_INTR)
                    if msg_kind == want:
                        try:
                            items.append(parse(view, start, end))
                        except MalformedMessage:
                            self.malformed += 1  # skip the one message, keep the dump
            except InterruptedError:
                interrupted = True
            if not interrupted or attempt == DUMP_RETRIES - 1:
                return items
        return items

    def dump_links(self, nsid: int | None = None) -> list[Link]:
        """Every link of the namespace with root-space id ``nsid`` (None: this socket's own).

        No IFLA_EXT_MASK: with a target nsid it makes the kernel walk every device of the
        requesting namespace first, and the inventory turns quadratic (DESIGN.md, "Traps").
        """
        body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        if nsid is not None:
            body += attr(IFLA_TARGET_NETNSID, struct.pack("=i", nsid))
        return self._dump(RTM_GETLINK, body, RTM_NEWLINK, parse_link)

    def dump_addresses(self, nsid: int | None = None, ifindex: int = 0) -> list[Addr]:
        """Addresses of a namespace, or of one link (strict checking filters by ifa_index)."""
        body = IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, ifindex)
        if nsid is not None:
            body += attr(IFA_TARGET_NETNSID, struct.pack("=i", nsid))
        addresses = self._dump(RTM_GETADDR, body, RTM_NEWADDR, parse_addr)
        return [a for a in addresses if a.ifindex == ifindex] if ifindex else addresses

    def get_link(self, ifindex: int, nsid: int | None = None) -> Link | None:
        """One link by ifindex (no dump, no IFLA_EXT_MASK); None when it or its namespace is gone."""
        body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, ifindex, 0, 0)
        if nsid is not None:
            body += attr(IFLA_TARGET_NETNSID, struct.pack("=i", nsid))
        seq = self._send(RTM_GETLINK, NLM_F_REQUEST, body)
        found = None
        try:
            for kind, _flags, view, start, end in self._responses(seq):
                if kind == RTM_NEWLINK:
                    found = parse_link(view, start, end)
        except NetlinkError as exc:
            if exc.errno in (errno.ENODEV, errno.EINVAL, errno.ENONET, errno.ENOENT):
                return None
            raise
        return found

    def get_nsid(self, ns_fd: int) -> int | None:
        """The id this socket's namespace gives the namespace behind ``ns_fd``, if any.

        One fd at a time: an RTM_GETNSID *dump* stops after one buffer on current kernels.
        """
        body = RTGENMSG.pack(socket.AF_UNSPEC) + attr(NETNSA_FD, struct.pack("=I", ns_fd))
        seq = self._send(RTM_GETNSID, NLM_F_REQUEST, body)
        nsid = None
        for kind, _flags, view, start, end in self._responses(seq):
            if kind == RTM_NEWNSID:
                for a_kind, a, b in iter_attrs(view, start + RTGENMSG.size, end):
                    if a_kind == NETNSA_NSID:
                        nsid = _s32(view, a, b)
        # 4294967295 / -1 both mean "not assigned"
        return None if nsid is None or nsid < 0 else nsid

    def assign_nsid(self, ns_fd: int) -> int | None:
        """Get, or have the kernel allocate (like `ip netns set NAME auto`), an id for ``ns_fd``."""
        nsid = self.get_nsid(ns_fd)
        if nsid is not None:
            return nsid
        body = (
            RTGENMSG.pack(socket.AF_UNSPEC)
            + attr(NETNSA_FD, struct.pack("=I", ns_fd))
            + attr(NETNSA_NSID, struct.pack("=i", NETNSA_NSID_NOT_ASSIGNED))
        )
        seq = self._send(RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK, body)
        try:
            for _ in self._responses(seq):
                pass
        except NetlinkError as exc:
            if exc.errno != errno.EEXIST:  # someone else assigned one meanwhile: fine
                raise
        return self.get_nsid(ns_fd)


class EventSocket:
    """Link, address and nsid notifications from every namespace that has an id in root.

    NETLINK_LISTEN_ALL_NSID makes the kernel deliver other namespaces' events and say where
    each came from in a SOL_NETLINK / NETLINK_LISTEN_ALL_NSID control message.
    """

    GROUPS = (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_NSID)

    def __init__(self, groups: tuple[int, ...] = GROUPS, buffer_size: int = 8 << 20) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
        try:
            try:  # as root, not capped by net.core.rmem_max: a flood overflows later
                self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, buffer_size)
            except PermissionError:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
            self.sock.bind((0, 0))
            for group in groups:
                self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
            self.sock.setsockopt(SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1)
        except OSError:
            self.sock.close()
            raise
        self.cmsg_size = socket.CMSG_SPACE(4)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    def setblocking(self, flag: bool) -> None:
        self.sock.setblocking(flag)

    def read(self) -> list[Event]:
        """Receive one datagram and decode it; raises Overflow when the kernel dropped events."""
        try:
            data, ancillary, _flags, _addr = self.sock.recvmsg(RECV_BUFFER, self.cmsg_size)
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                raise Overflow(errno.ENOBUFS, "netlink event buffer overflowed") from exc
            raise
        nsid = None
        for level, kind, payload in ancillary:
            if level == SOL_NETLINK and kind == NETLINK_LISTEN_ALL_NSID and len(payload) >= 4:
                nsid = int.from_bytes(payload[:4], sys.byteorder, signed=True)
                nsid = None if nsid < 0 else nsid
        return decode_events(data, nsid)


def decode_events(data: bytes, nsid: int | None) -> list[Event]:
    """Decode one datagram of notifications; malformed messages raise MalformedMessage."""
    events: list[Event] = []
    for kind, _flags, _seq, start, end in iter_messages(data, len(data)):
        if kind in (RTM_NEWLINK, RTM_DELLINK):
            events.append(Event(kind, nsid, link=parse_link(data, start, end)))
        elif kind in (RTM_NEWADDR, RTM_DELADDR):
            events.append(Event(kind, nsid, addr=parse_addr(data, start, end)))
        elif kind in (RTM_NEWNSID, RTM_DELNSID):
            subject = None
            for a_kind, a, b in iter_attrs(data, start + RTGENMSG.size, end):
                if a_kind == NETNSA_NSID:
                    subject = _s32(data, a, b)
            events.append(Event(kind, nsid, subject_nsid=subject))
    return events
