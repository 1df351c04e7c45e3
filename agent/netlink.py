"""A small typed rtnetlink reader: bulk dumps of links and addresses, nsid lookups, events.

Why not pyroute2 here: it parses at 150-350 us per link; this reader decodes only the attributes
nsmap uses, with struct, at a few us per link (docs/ARCHITECTURE.md, "Measured speeds"). pyroute2 stays the
library for changing things.

One socket in the root namespace observes every namespace: each namespace gets an id in the root
namespace (RTM_NEWNSID, like `ip netns set NAME auto`) and is dumped with IFLA_TARGET_NETNSID /
IFA_TARGET_NETNSID. The kernel then reports IFLA_LINK_NETNSID in the *requester's* id space, so
peers resolve without per-namespace translation (rtnl_fill_link_netnsid uses the socket's net).

Kernel constants come from include/uapi/linux/{netlink,rtnetlink,if_link,if_addr,net_namespace}.h.
Every parse function raises MalformedMessage on truncated or corrupt input, never anything else.

Why one module (about 650 lines): the constants, the decoders and the two sockets are one
contract with the kernel. Dumps and events share the decoders and their layout caches, and the
sockets need both, so halves would import each other's constants; together, this file alone
answers how nsmap reads rtnetlink. The decoders are pure and tested without root
(tests/agent/test_netlink_parsing.py).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

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
S32 = struct.Struct("=i")

# if_link.h
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_IFALIAS = 16, 18, 20
IFLA_LINK_NETNSID, IFLA_NEW_NETNSID, IFLA_TARGET_NETNSID = 37, 45, 46
IFLA_NEW_IFINDEX, IFLA_PROP_LIST, IFLA_ALT_IFNAME = 49, 52, 53
IFLA_INFO_KIND, IFLA_INFO_SLAVE_KIND = 1, 4
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
OPERSTATE_NAMES = dict(enumerate(OPERSTATES))
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
NO_REPLY = -1  # the message type of requests answered by an ack only
MAX_BATCH = 64  # requests per datagram: their answers wait in the receive buffer until read


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
    family: Literal[4, 6]
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


Buffer = bytes | bytearray | memoryview


def messages(buf: Buffer, size: int) -> list[tuple[int, int, int, int, int]]:
    """(type, flags, seq, payload start, message end) of each message in buf[:size]; a tail
    shorter than a header is no message and is ignored (the kernel never sends one)."""
    out = []
    pos = 0
    while pos + NLMSG_HDR.size <= size:
        length, kind, flags, seq, _pid = NLMSG_HDR.unpack_from(buf, pos)
        if length < NLMSG_HDR.size or pos + length > size:
            raise MalformedMessage(f"message length {length} at offset {pos} overruns {size}")
        out.append((kind, flags, seq, pos + NLMSG_HDR.size, pos + length))
        pos += (length + 3) & ~3
    return out


def attributes(buf: Buffer, start: int, end: int) -> list[tuple[int, int, int]]:
    """(type, payload start, payload end) of each netlink attribute in buf[start:end]."""
    out = []
    pos = start
    while pos + 4 <= end:
        length, kind = NLATTR.unpack_from(buf, pos)
        if length < 4 or pos + length > end:
            raise MalformedMessage(f"attribute length {length} at offset {pos} overruns {end}")
        out.append((kind & NLA_TYPE_MASK, pos + 4, pos + length))
        pos += (length + 3) & ~3
    return out


def _text(raw: bytes) -> str:
    return raw.partition(b"\0")[0].decode("utf-8", "replace")


# -- shapes: the hot path ------------------------------------------------------------------------
#
# A link message carries about 40 attributes, of which parse_link wants a dozen; walking them one
# by one in Python is what costs (about 140 ns each). But the kernel fills a given kind of device
# (or address) the same way every time, so messages come in a few *shapes*: the same length and
# the same attribute headers at the same offsets. A Layout records one shape: a struct that reads
# every header the walk visited (top level, and inside the nested attributes it descends into)
# and one that reads every payload the parser uses. A message of the same length whose headers
# read exactly as recorded would be walked exactly the same way (each header's length decides
# where the next one is), so its payloads are where the layout says: the cached path and a fresh
# walk decode identically, and the check is one C-level unpack and tuple comparison.


@dataclass(frozen=True, slots=True)
class Shape:
    """What a parser reads from one message type: ``attrs`` maps a top-level attribute to (slot,
    struct code), ``nested`` a nested attribute to the same for its children. Slots 0..slots-1
    come out in order; slot MANY collects every occurrence, after them. Code "s" reads the
    payload as bytes (b"" when the attribute is absent), other codes a number (None if absent)."""

    header: int  # size of the fixed struct before the attributes
    slots: int
    attrs: dict[int, tuple[int, str]]
    nested: dict[int, dict[int, tuple[int, str]]] = field(default_factory=dict)

    def bytes_slots(self) -> set[int]:
        """The slots read as bytes (whose missing value is b"", not None)."""
        codes = list(self.attrs.values()) + [spec for children in self.nested.values() for spec in children.values()]
        return {slot for slot, code in codes if code == "s"}


MANY = -1
_ABSENT = (None, b"")  # appended to the payloads read: what a missing number or bytes slot reads
MAX_LAYOUTS = 256  # shapes remembered per message type (a host has a few dozen); then start over


@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    """Where one shape of message keeps the payloads its parser reads. Equal only to itself."""

    length: int  # of the message from its fixed header on
    headers: struct.Struct  # reads every attribute header the walk visited
    expected: tuple[int, ...]  # what they read in the message the layout was made from
    values: struct.Struct  # reads the payloads the parser uses, in message order
    pick: Callable[[tuple[Any, ...]], tuple[Any, ...]]  # values + _ABSENT -> slots, then MANY


def _reader(fields: list[tuple[int, str]]) -> struct.Struct:
    """A struct that reads each (offset, code) of ``fields`` (ascending, not overlapping)."""
    parts, pos = ["="], 0
    for offset, code in fields:
        parts.append(f"{offset - pos}x{code}")
        pos = offset + struct.calcsize("=" + code)
    return struct.Struct("".join(parts))


def make_layout(shape: Shape, buf: Buffer, start: int, end: int) -> Layout:
    """Walk a message (``start`` points at its fixed header) and record its shape.

    A repeated attribute counts by its last occurrence, as everywhere in rtnetlink; a repeated
    nested attribute replaces what the earlier one's children said.
    """
    headers: list[int] = []
    found: dict[int, tuple[int, str]] = {}  # slot -> (offset, struct code)
    many: dict[int, list[tuple[int, str]]] = {}  # nested attribute -> its MANY children
    for kind, a, b in attributes(buf, start + shape.header, end):
        headers.append(a - 4)
        spec = shape.attrs.get(kind)
        if spec is not None:
            found[spec[0]] = (a, _code(kind, spec[1], b - a))
        children = shape.nested.get(kind)
        if children is None:
            continue
        for slot, _ in children.values():
            found.pop(slot, None)
        many[kind] = []
        for sub, c, d in attributes(buf, a, b):
            headers.append(c - 4)
            spec = children.get(sub)
            if spec is not None and spec[0] == MANY:
                many[kind].append((c, _code(sub, spec[1], d - c)))
            elif spec is not None:
                found[spec[0]] = (c, _code(sub, spec[1], d - c))
    read = sorted(
        [(offset, code, slot) for slot, (offset, code) in found.items()]
        + [(offset, code, MANY) for items in many.values() for offset, code in items]
    )
    index = {slot: i for i, (_offset, _code, slot) in enumerate(read) if slot != MANY}
    text = shape.bytes_slots()
    order = [index.get(slot, len(read) + (slot in text)) for slot in range(shape.slots)]
    order += [i for i, (_offset, _code, slot) in enumerate(read) if slot == MANY]
    header_reader = _reader([(h - start, "I") for h in headers])
    return Layout(
        length=end - start,
        headers=header_reader,
        expected=header_reader.unpack_from(buf, start),
        values=_reader([(offset - start, code) for offset, code, _slot in read]),
        pick=itemgetter(*order),  # shapes have at least two slots: a tuple always
    )


def _code(kind: int, code: str, size: int) -> str:
    if code == "s":
        return f"{size}s"
    if size < struct.calcsize("=" + code):
        raise MalformedMessage(f"attribute {kind} too short for its value")
    return code


class LayoutCache:
    """The shapes of one message type seen so far, by message length. Shared by threads: a
    lookup only reads, and a new layout is added in one step (the GIL keeps that consistent)."""

    def __init__(self, shape: Shape, limit: int = MAX_LAYOUTS) -> None:
        self.shape = shape
        self.limit = limit
        self.by_length: dict[int, list[Layout]] = {}
        self.count = 0

    def find(self, buf: Buffer, start: int, end: int) -> Layout:
        for layout in self.by_length.get(end - start, ()):
            if layout.headers.unpack_from(buf, start) == layout.expected:
                return layout
        layout = make_layout(self.shape, buf, start, end)
        if self.count >= self.limit:
            self.by_length = {}
            self.count = 0
        self.by_length.setdefault(layout.length, []).append(layout)
        self.count += 1
        return layout


# -- links and addresses -------------------------------------------------------------------------

LINK_SHAPE = Shape(
    header=IFINFOMSG.size,
    slots=11,  # name, kind, mtu, link, master, link_netnsid, operstate, mac, alias, new_netnsid, new_ifindex
    attrs={
        IFLA_IFNAME: (0, "s"),
        IFLA_MTU: (2, "I"),
        IFLA_LINK: (3, "I"),
        IFLA_MASTER: (4, "I"),
        IFLA_LINK_NETNSID: (5, "i"),
        IFLA_OPERSTATE: (6, "B"),
        IFLA_ADDRESS: (7, "s"),
        IFLA_IFALIAS: (8, "s"),
        IFLA_NEW_NETNSID: (9, "i"),
        IFLA_NEW_IFINDEX: (10, "i"),
    },
    nested={IFLA_LINKINFO: {IFLA_INFO_KIND: (1, "s")}, IFLA_PROP_LIST: {IFLA_ALT_IFNAME: (MANY, "s")}},
)
LINK_LAYOUTS = LayoutCache(LINK_SHAPE)
ADDR_SHAPE = Shape(header=IFADDRMSG.size, slots=2, attrs={IFA_LOCAL: (0, "s"), IFA_ADDRESS: (1, "s")})
ADDR_LAYOUTS = LayoutCache(ADDR_SHAPE)


# What a message says, before any object is made of it: a dump read this way is compared with the
# previous one at the cost of the reading alone (an idle reconcile decodes nothing). Equal fields
# decode to equal records: a layout is only ever equal to itself, and decoding uses nothing else.
LinkFields = tuple[Layout, int, int, tuple[Any, ...]]  # layout, ifindex, flags, the payloads read
AddrFields = tuple[int, int, bytes, int, int]  # ifindex, socket family, raw address, prefixlen, scope


def read_link(buf: Buffer, start: int, end: int, layouts: LayoutCache = LINK_LAYOUTS) -> LinkFields:
    """The fields of an ifinfomsg that parse_link decodes; ``start`` points past nlmsghdr.

    The inventory's hot path: a known shape costs two struct unpacks (see Layout).
    """
    if end - start < IFINFOMSG.size:
        raise MalformedMessage("ifinfomsg truncated")
    _family, _type, ifindex, flags, _change = IFINFOMSG.unpack_from(buf, start)
    layout = layouts.find(buf, start, end)
    return layout, ifindex, flags, layout.values.unpack_from(buf, start)


def link_from(fields: LinkFields) -> Link:
    layout, ifindex, flags, values = fields
    (name, kind, mtu, peer, master, link_netnsid, operstate, mac, alias, new_netnsid, new_ifindex, *altnames) = (
        layout.pick(values + _ABSENT)
    )
    return Link(  # positional (in Link's field order): keywords cost as much as the decoding
        ifindex,
        _text(name),
        _text(kind) or ("loopback" if flags & IFF_LOOPBACK else "device"),
        flags,
        mac.hex(":") or None,
        mtu,
        OPERSTATE_NAMES.get(operstate, "UNKNOWN"),
        master or None,
        peer,
        link_netnsid,
        _text(alias) or None,
        [_text(a) for a in altnames],
        new_netnsid,
        new_ifindex,
    )


def parse_link(buf: Buffer, start: int, end: int, layouts: LayoutCache = LINK_LAYOUTS) -> Link:
    """Decode an ifinfomsg and the attributes nsmap uses; ``start`` points past nlmsghdr."""
    return link_from(read_link(buf, start, end, layouts))


def read_addr(buf: Buffer, start: int, end: int, layouts: LayoutCache = ADDR_LAYOUTS) -> AddrFields:
    """The fields of an ifaddrmsg that parse_addr decodes, checked: IFA_LOCAL is the address
    itself (IFA_ADDRESS is the peer on p2p)."""
    if end - start < IFADDRMSG.size:
        raise MalformedMessage("ifaddrmsg truncated")
    family, prefixlen, _flags, scope, ifindex = IFADDRMSG.unpack_from(buf, start)
    layout = layouts.find(buf, start, end)
    local, address = layout.pick(layout.values.unpack_from(buf, start) + _ABSENT)
    raw = local or address
    if family not in (socket.AF_INET, socket.AF_INET6) or not raw:
        raise MalformedMessage(f"address of family {family} without an address attribute")
    if len(raw) != (4 if family == socket.AF_INET else 16):
        raise MalformedMessage("address attribute of the wrong length")
    return ifindex, family, raw, prefixlen, scope


def addr_from(fields: AddrFields) -> Addr:
    ifindex, family, raw, prefixlen, scope = fields
    return Addr(
        ifindex,
        4 if family == socket.AF_INET else 6,
        socket.inet_ntop(family, raw),
        prefixlen,
        SCOPES.get(scope) or str(scope),
    )


def parse_addr(buf: Buffer, start: int, end: int, layouts: LayoutCache = ADDR_LAYOUTS) -> Addr:
    """Decode an ifaddrmsg."""
    return addr_from(read_addr(buf, start, end, layouts))


def parse_nsid(buf: Buffer, start: int, end: int) -> int | None:
    """The NETNSA_NSID of an RTM_NEWNSID/RTM_DELNSID; None when absent or "not assigned" (-1)."""
    nsid = None
    for kind, a, b in attributes(buf, start + RTGENMSG.size, end):
        if kind == NETNSA_NSID:
            if b - a < 4:
                raise MalformedMessage("nsid attribute too short")
            nsid = S32.unpack_from(buf, a)[0]
    return None if nsid is None or nsid < 0 else nsid


def attr(kind: int, payload: bytes) -> bytes:
    length = NLATTR.size + len(payload)
    return NLATTR.pack(length, kind) + payload + b"\0" * (-length & 3)


def _error_code(buf: Buffer, start: int, end: int) -> int:
    """The positive errno an NLMSG_ERROR or NLMSG_DONE carries (0: an ack, a clean end)."""
    if end - start < 4:
        raise MalformedMessage("error message truncated")
    return -int(S32.unpack_from(buf, start)[0])


@dataclass(slots=True)
class Answer:
    """What the kernel answered to one request."""

    items: list[Any]
    error: NetlinkError | None = None
    interrupted: bool = False  # NLM_F_DUMP_INTR: the dump may be inconsistent
    skipped: int = 0  # messages that did not decode
    malformed: MalformedMessage | None = None  # why the last of them did not
    done: bool = False


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
        self.view = memoryview(self.buffer)
        self.seq = 0
        self.malformed = 0  # messages skipped because they could not be decoded

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RtnlSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def exchange(
        self, kind: int, flags: int, bodies: list[bytes], want: int, parse: Callable[[Buffer, int, int], Any]
    ) -> list[Answer]:
        """Send one request per body (at most MAX_BATCH, in one datagram) and collect the answers.

        Messages of type ``want`` are decoded with ``parse``; a request is answered by a message
        without NLM_F_MULTI, an NLMSG_ERROR (an error or an ack) or NLMSG_DONE (the end of a
        dump, which carries the negative errno when the dump failed, e.g. no permission).
        """
        first = self.seq + 1
        self.seq += len(bodies)
        request: list[bytes] = []
        for seq, body in enumerate(bodies, first):
            request += (NLMSG_HDR.pack(NLMSG_HDR.size + len(body), kind, flags, seq, 0), body)
        self.sock.send(b"".join(request))
        answers = [Answer([]) for _ in bodies]
        pending = len(answers)
        view = self.view
        while pending:
            size = self.sock.recv_into(self.buffer)
            for msg_kind, msg_flags, seq, start, end in messages(view, size):
                if not 0 <= seq - first < len(answers) or answers[seq - first].done:
                    continue  # a late answer to an abandoned request
                answer = answers[seq - first]
                if msg_flags & NLM_F_DUMP_INTR:
                    answer.interrupted = True
                if msg_kind == want:
                    try:
                        answer.items.append(parse(view, start, end))
                    except MalformedMessage as exc:
                        answer.skipped += 1
                        answer.malformed = exc
                elif msg_kind in (NLMSG_ERROR, NLMSG_DONE):
                    code = _error_code(view, start, end) if msg_kind == NLMSG_ERROR or end - start >= 4 else 0
                    if code:
                        answer.error = NetlinkError(code, os.strerror(code))
                    msg_flags &= ~NLM_F_MULTI  # either ends the request
                if not msg_flags & NLM_F_MULTI:
                    answer.done = True
                    pending -= 1
        return answers

    def _dump(self, kind: int, body: bytes, want: int, parse: Callable[[Buffer, int, int], Any]) -> list[Any]:
        """Run one dump, retried while the kernel flags it inconsistent (NLM_F_DUMP_INTR);
        a message that does not decode is skipped (and counted), the rest of the dump kept."""
        for _attempt in range(DUMP_RETRIES):
            [answer] = self.exchange(kind, NLM_F_REQUEST | NLM_F_DUMP, [body], want, parse)
            self.malformed += answer.skipped
            if answer.error is not None:
                raise answer.error
            if not answer.interrupted:
                break
        return answer.items

    def read_links(self, nsid: int | None = None) -> list[LinkFields]:
        """Every link of the namespace with root-space id ``nsid`` (None: this socket's own),
        undecoded (``link_from`` decodes one).

        No IFLA_EXT_MASK: with a target nsid it makes the kernel walk every device of the
        requesting namespace first, and the inventory turns quadratic (docs/ARCHITECTURE.md,
        "Kernel facts that decide correctness").
        """
        body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        if nsid is not None:
            body += attr(IFLA_TARGET_NETNSID, S32.pack(nsid))
        return self._dump(RTM_GETLINK, body, RTM_NEWLINK, read_link)

    def dump_addresses(self, nsid: int | None = None, ifindex: int = 0) -> list[Addr]:
        """Addresses of a namespace, or of one link."""
        return [addr_from(fields) for fields in self.read_addresses(nsid, ifindex)]

    def read_addresses(self, nsid: int | None = None, ifindex: int = 0) -> list[AddrFields]:
        """dump_addresses, undecoded (strict checking filters by ifa_index)."""
        body = IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, ifindex)
        if nsid is not None:
            body += attr(IFA_TARGET_NETNSID, S32.pack(nsid))
        addresses = self._dump(RTM_GETADDR, body, RTM_NEWADDR, read_addr)
        return [a for a in addresses if a[0] == ifindex] if ifindex else addresses

    def get_link(self, ifindex: int, nsid: int | None = None) -> Link | None:
        """One link by ifindex (no dump, no IFLA_EXT_MASK); None when it or its namespace is gone."""
        body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, ifindex, 0, 0)
        if nsid is not None:
            body += attr(IFLA_TARGET_NETNSID, S32.pack(nsid))
        [answer] = self.exchange(RTM_GETLINK, NLM_F_REQUEST, [body], RTM_NEWLINK, parse_link)
        if answer.malformed is not None:
            raise answer.malformed
        if answer.error is not None:
            if answer.error.errno in (errno.ENODEV, errno.EINVAL, errno.ENONET, errno.ENOENT):
                return None
            raise answer.error
        return answer.items[-1] if answer.items else None

    def get_nsids(self, fds: list[int]) -> list[int | NetlinkError | None]:
        """The ids this socket's namespace gives the namespaces behind ``fds`` (None: no id yet;
        a NetlinkError, e.g. EINVAL for a file that is no network namespace).

        One request per fd (batched into few datagrams): an RTM_GETNSID *dump* stops after one
        buffer on current kernels.
        """
        out: list[int | NetlinkError | None] = []
        for at in range(0, len(fds), MAX_BATCH):
            bodies = [_nsid_request(fd) for fd in fds[at : at + MAX_BATCH]]
            for answer in self.exchange(RTM_GETNSID, NLM_F_REQUEST, bodies, RTM_NEWNSID, parse_nsid):
                if answer.error is None and answer.malformed is not None:
                    answer.error = NetlinkError(errno.EBADMSG, str(answer.malformed))
                out.append(answer.error or (answer.items[-1] if answer.items else None))
        return out

    def assign_nsids(self, fds: list[int]) -> list[int | NetlinkError | None]:
        """Like get_nsids, but the kernel allocates an id where there is none (what
        `ip netns set NAME auto` does); None only if it still reports none."""
        nsids = self.get_nsids(fds)
        missing = [i for i, nsid in enumerate(nsids) if nsid is None]
        for at in range(0, len(missing), MAX_BATCH):
            chunk = missing[at : at + MAX_BATCH]
            bodies = [_nsid_request(fds[i]) + attr(NETNSA_NSID, S32.pack(NETNSA_NSID_NOT_ASSIGNED)) for i in chunk]
            answers = self.exchange(RTM_NEWNSID, NLM_F_REQUEST | NLM_F_ACK, bodies, NO_REPLY, parse_nsid)
            for i, answer in zip(chunk, answers, strict=True):
                # EEXIST: someone else assigned one meanwhile, which is fine
                if answer.error is not None and answer.error.errno != errno.EEXIST:
                    nsids[i] = answer.error
        again = [i for i in missing if nsids[i] is None]
        for i, nsid in zip(again, self.get_nsids([fds[i] for i in again]), strict=True):
            nsids[i] = nsid
        return nsids

    def get_nsid(self, ns_fd: int) -> int | None:
        """The id this socket's namespace gives the namespace behind ``ns_fd``, if any."""
        nsid = self.get_nsids([ns_fd])[0]
        if isinstance(nsid, NetlinkError):
            raise nsid
        return nsid


def _nsid_request(fd: int) -> bytes:
    return RTGENMSG.pack(socket.AF_UNSPEC) + attr(NETNSA_FD, S32.pack(fd))


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


def decode_events(data: Buffer, nsid: int | None) -> list[Event]:
    """Decode one datagram of notifications; malformed messages raise MalformedMessage."""
    events: list[Event] = []
    for kind, _flags, _seq, start, end in messages(data, len(data)):
        if kind in (RTM_NEWLINK, RTM_DELLINK):
            if end > start and data[start] == socket.AF_BRIDGE:
                # the bridge's own news about a port (STP state, flags; one per port a forward
                # delay after it joins): a port's joining, leaving or state is also announced
                # as an ordinary link message, which is what the records are made of
                continue
            events.append(Event(kind, nsid, link=parse_link(data, start, end)))
        elif kind in (RTM_NEWADDR, RTM_DELADDR):
            events.append(Event(kind, nsid, addr=parse_addr(data, start, end)))
        elif kind in (RTM_NEWNSID, RTM_DELNSID):
            events.append(Event(kind, nsid, subject_nsid=parse_nsid(data, start, end)))
    return events
