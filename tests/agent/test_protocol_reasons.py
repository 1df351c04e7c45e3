"""A refused message says exactly what is wrong (record, field, value, rule), and every limit
lets its last allowed value through."""

from __future__ import annotations

from typing import Any

import pytest

from agent.protocol import (
    IFALIASZ,
    INT32,
    INT64,
    MAX_ADDRESSES,
    MAX_ITEMS,
    NAMESPACE_KINDS,
    PROTOCOL_VERSION,
    ProtocolError,
    make_message,
    validate_message,
)
from tests.factories import make_inventory

RUN = "0b6f8a52-5d0e-4a39-9b1e-6c1f0f3b5a77"
IF = "interface if:4026532000:1"  # ns0's lo, the record the cases change
NS = "namespace ns:4026532000"
HOLDER_RULE = "is not a path or 'pid N (comm) fd M' without control characters"


def snapshot() -> dict[str, Any]:
    data = make_inventory("h1", namespaces=1).to_json()
    body = {k: data[k] for k in ("namespaces", "interfaces", "errors", "complete")}
    return make_message("snapshot", "h1", RUN, 1, 1_700_000_000.0, **body)


def changed(where: str, field: str, value: Any) -> dict[str, Any]:
    data = snapshot()
    target = data["interfaces"][2] if where == "if" else data["namespaces"][1] if where == "ns" else data
    target[field] = value
    return data


def reason(data: dict[str, Any]) -> str:
    with pytest.raises(ProtocolError) as refused:
        validate_message(data)
    return str(refused.value)


OPERSTATES = "['DORMANT', 'DOWN', 'LOWERLAYERDOWN', 'NOTPRESENT', 'TESTING', 'UNKNOWN', 'UP']"
CASES = [
    ("if", "operstate", "up", f"{IF} operstate 'up' is not one of {OPERSTATES}"),
    ("if", "up", "yes", f"{IF} up 'yes' is not true or false"),
    ("if", "mtu", "1500", f"{IF} mtu '1500' is not an integer"),
    ("if", "mtu", 2**31, f"{IF} mtu 2147483648 is outside 0..2147483647"),
    ("if", "name", "a" * 14 + "é", f"{IF} name '{'a' * 14}é' is longer than 15 bytes"),
    ("if", "name", "a b", f"{IF} name 'a b' is not a valid interface name"),
    ("if", "name", ".", f"{IF} name '.' is not a valid interface name"),
    ("if", "name", "a\x00", f"{IF} name 'a\\x00' contains NUL"),
    ("if", "name", "\ud800", f"{IF} name '\\ud800' is not valid Unicode (lone surrogate)"),
    ("if", "name", 7, f"{IF} name 7 is not a string"),
    ("if", "name", "", f"{IF} name '' must have 1 to 15 characters"),
    ("if", "kind", "<b>", f"{IF} kind '<b>' does not match [a-z0-9][a-z0-9_.-]{{0,31}}"),
    ("if", "kind", "k" * 33, f"{IF} kind '{'k' * 33}' must have 1 to 32 characters"),
    ("if", "kind", "k" * 58, f"{IF} kind '{'k' * 58}' must have 1 to 32 characters"),  # 60 characters shown whole
    ("if", "kind", "k" * 59, f"{IF} kind '{'k' * 56}... must have 1 to 32 characters"),  # 61: cut to 57 and "..."
    ("if", "namespace", "xx:4026532000", f"{IF} namespace 'xx:4026532000' does not match ns:([0-9]{{1,20}})"),
    ("if", "namespace", "ns:" + "4" * 22, f"{IF} namespace 'ns:{'4' * 22}' must have 1 to 24 characters"),
    ("if", "key", "if:" + "4" * 38, f"interface key 'if:{'4' * 38}' must have 1 to 40 characters"),
    ("if", "key", "ns:4026532000", "interface key 'ns:4026532000' does not match if:([0-9]{1,20}):([0-9]{1,10})"),
    ("if", "peer_note", "x" * 256, f"{IF} peer_note '{'x' * 56}... must have 1 to 255 characters"),
    ("if", "mac", "ab" * 33, f"{IF} mac '{'ab' * 28}... must have 1 to 64 characters"),
    ("if", "master", "if:" + "4" * 38, f"{IF} master 'if:{'4' * 38}' must have 1 to 40 characters"),
    (
        "if",
        "name",
        "\ufffd" + "é" * 7 + "a",  # 18 bytes; the U+FFFD stood for 1 kernel byte: 16
        f"{IF} name '\ufffd{'é' * 7}a' is longer than 15 bytes",
    ),
    ("if", "alias", "x" * 300, f"{IF} alias '{'x' * 56}... must have 1 to 255 characters"),
    ("if", "altnames", "enp0s1", f"{IF} altnames 'enp0s1' is not a list"),
    ("if", "altnames", ["x"] * 1025, f"{IF} altnames has 1025 items, more than 1024"),
    ("if", "altnames", ["a:b"], f"{IF} altname 'a:b' is not a valid interface name"),
    ("if", "addresses", [{"family": 5, "address": "10.0.0.1"}], f"{IF} address 0 family 5 is not 4 or 6"),
    (
        "if",
        "addresses",
        [{"family": 4, "address": "10.0.0.300"}],
        f"{IF} address 0 address '10.0.0.300' is not an IP address",
    ),
    (
        "if",
        "addresses",
        [{"family": 4, "address": "fd00::1"}],
        f"{IF} address 0 address 'fd00::1' is not an IPv4 address",
    ),
    (
        "if",
        "addresses",
        [{"family": 4, "address": "10.0.0.1", "scope": "256"}],
        f"{IF} address 0 scope '256' is not one of ['global', 'host', 'link', 'nowhere', 'site'] or 0..255",
    ),
    (
        "if",
        "addresses",
        [{"family": 4, "address": "10.0.0.1", "prefixlen": 33}],
        f"{IF} address 0 prefixlen 33 is outside 0..32",
    ),
    ("if", "addresses", [{"family": 4}], f"{IF} address 0 lacks fields ['address']"),
    ("if", "addresses", [{"family": 4, "address": 4}], f"{IF} address 0 address 4 is not a string"),
    (
        "if",
        "addresses",
        [{"family": 6, "address": "f" * 65}],
        f"{IF} address 0 address '{'f' * 56}... must have 1 to 64 characters",
    ),
    ("if", "addresses", {"family": 4}, f"{IF} addresses {{'family': 4}} is not a list"),
    ("if", "addresses", ["x"], f"{IF} address 0 'x' is not an object"),
    ("if", "evil", 1, "interface has unknown fields ['evil']"),
    (
        "if",
        "key",
        "if:4026532000:9",
        "interface if:4026532000:9: key does not match namespace ns:4026532000 and ifindex 1",
    ),
    ("ns", "kind", "container", f"{NS} kind 'container' is not one of {sorted(NAMESPACE_KINDS)}"),
    ("ns", "inode", 12, f"{NS}: key does not match inode 12"),
    ("ns", "dev", -1, f"{NS} dev -1 is outside 0..9223372036854775807"),
    ("ns", "names", [5], f"{NS} name 5 is not a string"),
    ("ns", "pids", [{"pid": 2**22 + 1, "comm": "x"}], f"{NS} pid 4194305 is outside 1..4194304"),
    ("ns", "pids", [{"pid": 1}], f"{NS} process lacks fields ['comm']"),
    ("ns", "pids", [{"pid": 1, "comm": 2}], f"{NS} comm 2 is not a string"),
    ("ns", "nsid", -2, f"{NS} nsid -2 is outside -1..2147483647"),
    ("ns", "container_id", "x" * 129, f"{NS} container_id '{'x' * 56}... must have 1 to 128 characters"),
    ("ns", "key", "ns:" + "4" * 22, f"namespace key 'ns:{'4' * 22}' must have 1 to 24 characters"),
    ("ns", "names", "lab", f"{NS} names 'lab' is not a list"),
    ("ns", "pids", "1", f"{NS} pids '1' is not a list"),
    ("ns", "evil", 1, "namespace has unknown fields ['evil']"),
    ("ns", "holder", "", f"{NS} holder '' {HOLDER_RULE}"),
    ("ns", "holder", "/run/a\x7fb", f"{NS} holder '/run/a\\x7fb' {HOLDER_RULE}"),
    ("ns", "holder", "h" * 4097, f"{NS} holder '{'h' * 56}... {HOLDER_RULE}"),
    ("", "node", "h/1", "node 'h/1' does not match [A-Za-z0-9][A-Za-z0-9._-]{0,62}"),
    ("", "node", "n" * 64, f"node '{'n' * 56}... must have 1 to 63 characters"),
    ("", "run", "r" * 65, f"run '{'r' * 56}... must have 1 to 64 characters"),
    ("", "seq", 2**63, "seq 9223372036854775808 is outside 1..9223372036854775807"),
    ("", "seq", 0, "seq starts at 1"),
    ("", "time", -1, "time -1 is not a finite time after 1970"),
    ("", "complete", "yes", "snapshot complete 'yes' is not true or false"),
    ("", "errors", [1], "snapshot error 1 is not a string"),
    ("", "errors", "boom", "snapshot errors 'boom' is not a list"),
    ("", "namespaces", None, "snapshot namespaces None is not a list"),
    ("", "interfaces", None, "snapshot interfaces None is not a list"),
    ("", "v", PROTOCOL_VERSION + 1, f"protocol version {PROTOCOL_VERSION + 1}, expected {PROTOCOL_VERSION}"),
]


@pytest.mark.parametrize(("where", "field", "value", "expected"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_it_names_the_record_field_value_and_rule(where: str, field: str, value: Any, expected: str) -> None:
    assert reason(changed(where, field, value)) == expected


def test_it_says_what_a_message_that_is_no_object_is() -> None:
    with pytest.raises(ProtocolError, match=r"^a message is a JSON object$"):
        validate_message([1])


def test_it_names_each_kind_of_bad_change() -> None:
    delta = make_message("delta", "h1", RUN, 2, 1.0, changes=[])
    delta["changes"] = [{"op": "remove", "kind": "interface", "key": "x" * 41, "data": None}]
    assert reason(delta) == f"removed interface key '{'x' * 41}' must have 1 to 40 characters"
    record = make_inventory("h1", namespaces=1).to_json()["namespaces"][1]
    delta["changes"] = [{"op": "upsert", "kind": "namespace", "key": "ns:1", "data": record}]
    assert reason(delta) == "change key differs from its record's key"
    delta["changes"] = {}
    assert reason(delta) == "delta changes {} is not a list"


LIMITS = [
    ("if", "mtu", INT32),
    ("if", "mtu", 0),
    ("if", "peer_ifindex", 0),
    ("if", "peer_ifindex", INT32),
    ("if", "name", "a" * 15),
    ("if", "name", "é" * 7),
    ("if", "name", "\ufffd" + "é" * 6 + "ab"),  # 17 bytes as text, 15 in the kernel
    ("if", "name", "X-EXT.0"),
    ("if", "alias", "x" * (IFALIASZ - 1)),
    ("if", "peer_note", "x" * 255),
    ("if", "mac", ":".join(["ab"] * 20)),
    ("if", "kind", "k" * 32),
    ("if", "altnames", ["a" * 127] * MAX_ITEMS),
    ("if", "addresses", [{"family": 6, "address": "fd00::1", "prefixlen": 128, "scope": "255"}] * MAX_ADDRESSES),
    ("if", "addresses", [{"family": 4, "address": "10.0.0.1", "prefixlen": 32, "scope": "0"}]),
    ("if", "addresses", [{"family": 4, "address": "10.0.0.1"}]),
    ("ns", "dev", 0),
    ("ns", "dev", INT64),
    ("ns", "nsid", -1),
    ("ns", "nsid", INT32),
    ("ns", "names", ["n" * 255] * MAX_ITEMS),
    ("ns", "pids", [{"pid": 2**22, "comm": "c" * 64}]),
    ("ns", "container_id", "a" * 128),
    ("ns", "holder", "h" * 4096),
    ("ns", "holder", "pid 4711 (sleep) fd 3"),
    ("ns", "holder", "?"),
    ("", "node", "n" * 63),
    ("", "run", "r" * 64),
    ("", "seq", INT64),
    ("", "time", 0),
    ("", "errors", ["e" * 4096]),
]


@pytest.mark.parametrize(("where", "field", "value"), LIMITS, ids=[f"{c[0]}-{c[1]}" for c in LIMITS])
def test_it_accepts_the_last_value_a_limit_allows(where: str, field: str, value: Any) -> None:
    validate_message(changed(where, field, value))


def test_it_fills_in_what_a_record_may_leave_out() -> None:
    data = snapshot()
    namespace = data["namespaces"][1]
    data["namespaces"][1] = {k: namespace[k] for k in ("key", "inode", "dev", "kind")}
    interface = data["interfaces"][2]
    data["interfaces"][2] = {k: interface[k] for k in ("key", "namespace", "ifindex", "name", "kind")}
    del data["errors"], data["complete"]
    assert validate_message(data) is data


def test_it_accepts_a_heartbeat_and_a_delta_of_both_kinds() -> None:
    validate_message(make_message("heartbeat", "h1", RUN, 3, 1.0))
    records = make_inventory("h1", namespaces=1).to_json()
    changes = [
        {"op": "upsert", "kind": "namespace", "key": records["namespaces"][1]["key"], "data": records["namespaces"][1]},
        {"op": "upsert", "kind": "interface", "key": records["interfaces"][2]["key"], "data": records["interfaces"][2]},
        {"op": "remove", "kind": "namespace", "key": "ns:7", "data": None},
    ]
    validate_message(make_message("delta", "h1", RUN, 2, 1.0, changes=changes))
    changes[0]["data"] = records["interfaces"][2]  # an interface record where a namespace is named
    with pytest.raises(ProtocolError, match="namespace"):
        validate_message(make_message("delta", "h1", RUN, 2, 1.0, changes=changes))


def test_it_takes_inodes_from_1_and_refuses_0() -> None:
    data = snapshot()
    data["interfaces"] = []
    data["namespaces"] = [dict(data["namespaces"][1], key="ns:1", inode=1)]
    validate_message(data)
    data["namespaces"] = [dict(data["namespaces"][0], key="ns:0", inode=0)]
    assert reason(data) == "namespace ns:0 inode 0 is outside 1..9223372036854775807"
