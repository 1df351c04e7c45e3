"""Every field an agent sends is checked by type, range and character set: a message that breaks
a rule is refused with a reason naming the field, and the agent's own messages pass."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from agent.protocol import ProtocolError, make_message, validate_message
from tests.factories import make_inventory, upsert

RUN = "0b6f8a52-5d0e-4a39-9b1e-6c1f0f3b5a77"


def snapshot() -> dict[str, Any]:
    data = make_inventory("h1", namespaces=2).to_json()
    body = {k: data[k] for k in ("namespaces", "interfaces", "errors", "complete")}
    return make_message("snapshot", "h1", RUN, 1, 1_700_000_000.0, **body)


def first(kind: str, data: dict[str, Any], name: str) -> dict[str, Any]:
    """The first record of ``kind`` that has a field ``name`` set (eth0 for interface fields)."""
    records = data["namespaces"] if kind == "namespace" else data["interfaces"]
    return next(r for r in records if r.get(name) not in (None, [], "") and r.get("name", "eth0") == "eth0")


def test_it_accepts_what_the_agent_sends() -> None:
    data = snapshot()
    assert validate_message(json.loads(json.dumps(data))) == data


INTERFACE_BREAKS = [
    ("operstate", "<IMG SRC=X ONERROR=alert(1337)>", "operstate"),
    ("operstate", {"a": 1}, "operstate"),
    ("operstate", "up", "operstate"),
    ("kind", "<b>veth</b>", "kind"),
    ("kind", "", "kind"),
    ("kind", "v" * 40, "kind"),
    ("name", "a" * 16, "1 to 15 characters"),
    ("name", "é" * 8, "15 bytes"),
    ("name", "a/b", "interface name"),
    ("name", "a b", "interface name"),
    ("name", "a:b", "interface name"),
    ("name", "..", "interface name"),
    ("name", "", "characters"),
    ("name", "a\x00", "NUL"),
    ("name", "\ud800", "surrogate"),
    ("name", 7, "not a string"),
    ("mac", "zz:00:00:00:00:00", "mac"),
    ("mac", "02:00:00:00:00:01<script>", "mac"),
    ("mtu", -1, "mtu"),
    ("mtu", 2**31, "mtu"),
    ("mtu", "1500", "not an integer"),
    ("mtu", True, "not an integer"),
    ("up", "yes", "up"),
    ("ifindex", 0, "ifindex"),
    ("ifindex", 2**40, "ifindex"),
    ("master", "br0", "master"),
    ("peer", "if:x:1", "peer"),
    ("peer_ifindex", -5, "peer_ifindex"),
    ("peer_status", "maybe", "peer_status"),
    ("peer_note", "x" * 300, "peer_note"),
    ("alias", "x" * 256, "alias"),
    ("alias", {"x": 1}, "alias"),
    ("altnames", "enp0s1", "not a list"),
    ("altnames", ["a/b"], "altname"),
    ("altnames", ["a" * 128], "1 to 127 characters"),
    ("altnames", ["x"] * 2000, "more than"),
    ("addresses", [{"family": 4, "address": "10.0.0.300", "prefixlen": 24}], "not an IP address"),
    ("addresses", [{"family": 4, "address": "fd00::1", "prefixlen": 64}], "not an IPv4"),
    ("addresses", [{"family": 6, "address": "fd00::1", "prefixlen": 129}], "prefixlen"),
    ("addresses", [{"family": 5, "address": "10.0.0.1", "prefixlen": 8}], "family"),
    ("addresses", [{"family": 4, "address": "10.0.0.1", "prefixlen": 8, "scope": "<i>"}], "scope"),
    ("addresses", [{"family": 4, "address": "10.0.0.1", "prefixlen": 8, "extra": 1}], "unknown fields"),
    ("addresses", [{"family": 4}], "lacks fields"),
    ("addresses", ["10.0.0.1/8"], "not an object"),
    ("key", "if:1:2", "does not match namespace"),
    ("namespace", "ns:1", "does not match namespace"),
    ("evil", 1, "unknown fields"),
]


@pytest.mark.parametrize(("field", "value", "reason"), INTERFACE_BREAKS)
def test_it_refuses_an_interface_field_that_breaks_a_rule(field: str, value: Any, reason: str) -> None:
    data = snapshot()
    first("interface", data, "addresses")[field] = value
    with pytest.raises(ProtocolError, match=reason):
        validate_message(data)


@pytest.mark.parametrize("name", ["\ufffd" * 15, "a\u00a0b", "e\x1b[31m", "\u00e9" * 7, "x" * 15])
def test_it_accepts_every_name_the_kernel_allows(name: str) -> None:
    """Bytes that were not UTF-8 arrive as U+FFFD (one each); the kernel's whitespace is ASCII."""
    data = snapshot()
    first("interface", data, "addresses")["name"] = name
    validate_message(data)


def test_it_refuses_an_interface_without_a_required_field() -> None:
    data = snapshot()
    del first("interface", data, "addresses")["name"]
    with pytest.raises(ProtocolError, match="lacks fields \\['name'\\]"):
        validate_message(data)


NAMESPACE_BREAKS = [
    ("kind", "container", "kind"),
    ("kind", ["named"], "kind"),
    ("inode", -1, "inode"),
    ("inode", 2**64, "inode"),
    ("inode", 12, "key does not match inode"),
    ("key", "ns:<b>", "namespace key"),
    ("dev", 1.5, "not an integer"),
    ("names", "blue", "not a list"),
    ("names", [""], "characters"),
    ("names", ["x" * 256], "characters"),
    ("names", [None], "not a string"),
    ("pids", [{"pid": 0, "comm": "sh"}], "pid"),
    ("pids", [{"pid": 5, "comm": "x" * 65}], "comm"),
    ("pids", [{"pid": 5}], "lacks fields"),
    ("pids", [{"pid": 5, "comm": "sh", "uid": 0}], "unknown fields"),
    ("container_id", "<script>", "container_id"),
    ("nsid", 2**31, "nsid"),
    ("nsid", "7", "not an integer"),
]


@pytest.mark.parametrize(("field", "value", "reason"), NAMESPACE_BREAKS)
def test_it_refuses_a_namespace_field_that_breaks_a_rule(field: str, value: Any, reason: str) -> None:
    data = snapshot()
    data["namespaces"][1][field] = value
    with pytest.raises(ProtocolError, match=reason):
        validate_message(data)


ENVELOPE_BREAKS = [
    ("node", "h1/../x", "node"),
    ("node", "", "node"),
    ("run", "r" * 65, "run"),
    ("run", "<run>", "run"),
    ("seq", 0, "seq starts at 1"),
    ("seq", 2**63, "seq"),
    ("seq", 1.0, "'seq' missing or of the wrong type"),
    ("time", float("nan"), "time"),
    ("time", float("inf"), "time"),
    ("time", -1, "time"),
    ("time", "now", "'time' missing or of the wrong type"),
    ("type", 5, "'type' missing or of the wrong type"),
    ("node", 5, "'node' missing or of the wrong type"),
    ("run", None, "'run' missing or of the wrong type"),
    ("type", "patch", "unknown message type"),
    ("namespaces", {"ns:1": {}}, "not a list"),
    ("interfaces", None, "not a list"),
    ("errors", [{"x": 1}], "snapshot error"),
    ("errors", "boom", "not a list"),
    ("complete", "yes", "complete"),
]


@pytest.mark.parametrize(("field", "value", "reason"), ENVELOPE_BREAKS)
def test_it_refuses_an_envelope_field_that_breaks_a_rule(field: str, value: Any, reason: str) -> None:
    data = snapshot()
    data[field] = value
    with pytest.raises(ProtocolError, match=reason):
        validate_message(data)


def test_it_refuses_each_wrong_typed_envelope_field_alone() -> None:
    """Each of type, node, run, seq and time is checked on its own (one good field does not
    excuse a bad one)."""
    for name, bad in (("type", 1), ("node", 1), ("run", 1), ("seq", "1"), ("time", "1"), ("seq", True)):
        data = snapshot()
        data[name] = bad
        with pytest.raises(ProtocolError, match=f"field '{name}' missing or of the wrong type"):
            validate_message(data)


def delta(*changes: dict[str, Any]) -> dict[str, Any]:
    return make_message("delta", "h1", RUN, 2, 1_700_000_001.0, changes=list(changes))


def eth0() -> dict[str, Any]:
    inventory = make_inventory("h1", namespaces=1)
    return upsert(next(i for i in inventory.interfaces if i.name == "eth0"))


def test_it_checks_every_record_a_delta_upserts() -> None:
    good = eth0()
    validate_message(delta(copy.deepcopy(good)))
    bad = copy.deepcopy(good)
    bad["data"]["operstate"] = "<svg onload=alert(1)>"
    with pytest.raises(ProtocolError, match="operstate"):
        validate_message(delta(good, bad))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"op": "upsert", "kind": "host", "key": "h1", "data": {}}, "bad change"),
        ({"op": "rename", "kind": "interface", "key": "if:1:1", "data": None}, "bad change"),
        ({"op": "remove", "kind": "interface", "key": 5, "data": None}, "bad change"),
        ({"op": "remove", "kind": "interface", "key": "", "data": None}, "removed interface key"),
        ({"op": "upsert", "kind": "interface", "key": "if:1:1", "data": None}, "carries no record"),
        ("remove if:1:1", "bad change"),
    ],
)
def test_it_refuses_a_malformed_change(change: Any, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        validate_message(delta(change))


def test_it_refuses_an_upsert_whose_key_is_not_its_records() -> None:
    change = eth0()
    change["key"] = "if:4026532000:9"
    with pytest.raises(ProtocolError, match="change key differs"):
        validate_message(delta(change))


def test_it_refuses_a_delta_without_a_list_of_changes() -> None:
    data = delta()
    data["changes"] = {"op": "remove"}
    with pytest.raises(ProtocolError, match="delta changes"):
        validate_message(data)
