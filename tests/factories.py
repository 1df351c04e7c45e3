"""Test data without root: protocol objects and agent messages built by hand.

``make_inventory`` builds a host like the ones the agent reports: a root namespace with a bridge,
N named namespaces each holding ``lo`` and an ``eth0`` whose veth peer sits on the bridge in root.
``FakeAgent`` numbers and signs messages the way agent/publisher.py does. ``message``,
``veth_body`` and ``addr_body`` build rtnetlink messages as the kernel sends them.
"""

from __future__ import annotations

import json
import socket
import struct
import time
import uuid
from typing import Any

from agent import netlink as nl
from agent import protocol, signing
from agent.protocol import Address, Interface, Inventory, Namespace, Process

ROOT_INODE = 4026531840
FIRST_INODE = 4026532000


def make_namespace(inode: int, kind: str = "named", names: list[str] | None = None, **fields: Any) -> Namespace:
    if names is None:
        names = [] if kind in ("root", "process") else [f"ns{inode - FIRST_INODE}"]
    fields.setdefault("dev", 4)
    fields.setdefault("nsid", None if kind == "root" else inode - FIRST_INODE)
    if kind == "process" and "pids" not in fields:
        fields["pids"] = [Process(pid=4000 + inode % 1000, comm="sleep")]
    return Namespace(key=protocol.namespace_key(inode), inode=inode, kind=kind, names=names, **fields)  # type: ignore[arg-type]


def make_interface(ns_inode: int, ifindex: int, name: str, kind: str = "veth", **fields: Any) -> Interface:
    fields.setdefault(
        "mac", f"02:00:{(ns_inode >> 8) & 0xFF:02x}:{ns_inode & 0xFF:02x}:{ifindex >> 8:02x}:{ifindex & 0xFF:02x}"
    )
    fields.setdefault("mtu", 1500 if kind != "loopback" else 65536)
    fields.setdefault("operstate", "UP")
    fields.setdefault("up", True)
    if kind == "veth":
        fields.setdefault("peer_status", "resolved" if fields.get("peer") else "unresolved")
    return Interface(
        key=protocol.interface_key(ns_inode, ifindex),
        namespace=protocol.namespace_key(ns_inode),
        ifindex=ifindex,
        name=name,
        kind=kind,
        **fields,
    )


def veth_pair(
    a_inode: int, a_index: int, a_name: str, b_inode: int, b_index: int, b_name: str, **a_fields: Any
) -> tuple[Interface, Interface]:
    """Two veth ends that name each other exactly."""
    a = make_interface(
        a_inode, a_index, a_name, peer=protocol.interface_key(b_inode, b_index), peer_ifindex=b_index, **a_fields
    )
    b = make_interface(b_inode, b_index, b_name, peer=protocol.interface_key(a_inode, a_index), peer_ifindex=a_index)
    return a, b


def make_inventory(
    node: str = "h1", namespaces: int = 3, *, bridge: bool = True, addresses: bool = True, neighbours: bool = False
) -> Inventory:
    """Root (lo, br0) plus ``namespaces`` named namespaces, each with lo and eth0 paired to a
    host-side vethN that is a port of br0. Interfaces per namespace: 2 inside + 1 in root.
    ``neighbours``: also a veth ``nb0`` (ifindex 3) from each even namespace to the next one
    (the shape of bench/discovery.py's topology: 1,000 namespaces -> about 4,000 interfaces)."""
    root = make_namespace(ROOT_INODE, "root", pids=[Process(1, "systemd")])
    inv = Inventory(node=node, namespaces=[root])
    inv.interfaces.append(make_interface(ROOT_INODE, 1, "lo", "loopback", mac="00:00:00:00:00:00"))
    br_key = protocol.interface_key(ROOT_INODE, 2)
    if bridge:
        inv.interfaces.append(make_interface(ROOT_INODE, 2, "br0", "bridge"))
    for n in range(namespaces):
        inode = FIRST_INODE + n
        inv.namespaces.append(make_namespace(inode, names=[f"ns{n}"]))
        inv.interfaces.append(make_interface(inode, 1, "lo", "loopback", mac="00:00:00:00:00:00"))
        host_index = 100 + n
        inner, outer = veth_pair(inode, 2, "eth0", ROOT_INODE, host_index, f"veth{n}")
        if addresses:
            inner.addresses = [Address(4, f"10.{n // 250}.{n % 250}.2", 24), Address(6, f"fe80::{n + 1:x}", 64, "link")]
        if bridge:
            outer.master = br_key
        inv.interfaces.extend([inner, outer])
        if neighbours and n % 2 == 1:
            inv.interfaces.extend(veth_pair(inode - 1, 3, "nb0", inode, 3, "nb0"))
    return inv


upsert = protocol.upsert  # a delta's changes, built the way the agent builds them
remove = protocol.removal

# Every Redis URL form the agent and the server both accept (agent/env.py), with what kombu gets.
REDIS_URL_FORMS = [
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("redis://:pw@10.0.0.5:6380/2", "redis://:pw@10.0.0.5:6380/2"),
    ("rediss://user:pw@redis.example:6380", "rediss://user:pw@redis.example:6380"),
    ("unix:///run/redis/redis.sock", "redis+socket:///run/redis/redis.sock"),
    ("unix://:pw@/run/redis/redis.sock?db=3", "redis+socket://:pw@/run/redis/redis.sock?virtual_host=3"),
]


# -- the publisher's tests: one root namespace "ns:1" (inode 1), a clock moved by hand --------------


class Clock:
    """The publisher's ``clock=``: the time is ``now``, moved by the test (``clock.now += 5``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def small_inventory(loopback: bool = False) -> Inventory:
    """Node h1 with only its root namespace ns:1 and, with ``loopback``, its ``lo`` (if:1:1)."""
    ns = Namespace(key="ns:1", inode=1, dev=4, kind="root")
    interfaces = [Interface(key="if:1:1", namespace="ns:1", ifindex=1, name="lo", kind="loopback")] if loopback else []
    return Inventory(node="h1", namespaces=[ns], interfaces=interfaces)


def veth_upsert(ifindex: int, name: str = "v") -> dict[str, Any]:
    """The upsert of a veth ``name`` at if:1:IFINDEX in ns:1."""
    return upsert(Interface(key=f"if:1:{ifindex}", namespace="ns:1", ifindex=ifindex, name=name, kind="veth"))


def veth_remove(ifindex: int) -> dict[str, Any]:
    """The remove of if:1:IFINDEX."""
    return remove("interface", f"if:1:{ifindex}")


class FakeAgent:
    """Numbers (run, seq) and signs messages like agent/publisher.py; returns (body, signature)."""

    def __init__(self, node: str = "h1", key: str | None = None, run: str | None = None) -> None:
        self.node = node
        self.key = key
        self.run = run or str(uuid.uuid4())
        self.seq = 0

    def restart(self) -> None:
        self.run = str(uuid.uuid4())
        self.seq = 0

    def message(self, type_: str, *, seq: int | None = None, **body: Any) -> tuple[str, str | None]:
        if seq is None:
            self.seq += 1
            seq = self.seq
        data = protocol.make_message(type_, self.node, self.run, seq, time.time(), **body)  # type: ignore[arg-type]
        text = json.dumps(data, separators=(",", ":"))
        return text, signing.sign(text.encode(), self.key) if self.key else None

    def snapshot(self, inventory: Inventory, **kw: Any) -> tuple[str, str | None]:
        data = inventory.to_json()
        return self.message(
            "snapshot",
            namespaces=data["namespaces"],
            interfaces=data["interfaces"],
            errors=data["errors"],
            complete=data["complete"],
            **kw,
        )

    def delta(self, changes: list[dict[str, Any]], **kw: Any) -> tuple[str, str | None]:
        return self.message("delta", changes=changes, **kw)

    def heartbeat(self, **kw: Any) -> tuple[str, str | None]:
        return self.message("heartbeat", **kw)


# -- rtnetlink messages ---------------------------------------------------------------------------


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
