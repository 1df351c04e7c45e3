"""Lab verbs' args are checked completely before anything runs: each bad field is named with its reason."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from agent.verbs import (
    VERBS,
    AddressChange,
    BridgeCreate,
    BridgeDelete,
    BridgeEnd,
    BridgePort,
    End,
    InterfaceRef,
    LinkDelete,
    LinkMove,
    LinkSet,
    NamespaceRef,
    NetnsCreate,
    NetnsDelete,
    Ping,
    VethCreate,
    interface_ref,
    namespace_ref,
    parse_args,
)
from tests.agent.verbs_support import BR, BR_REF, IF, IF_REF, NS, end, errors_of, ip, veth

# what a good command of every verb parses to


def test_it_parses_the_seed_pair_with_the_seed_defaults():
    action = parse_args("veth.create", veth(), "h1")
    assert action == VethCreate(
        a=End(NamespaceRef(name="lab"), "veth0", None, 1500, False),
        b=End(NamespaceRef(name="netns1"), "veth1", None, 1500, False),
    )


def test_it_parses_every_option_of_an_end():
    a = end(namespace=NS, address="10.1.1.2/24", mtu=9000, up=True)
    b = {"bridge": BR, "name": "veth1", "address": "fd00::1/64"}
    action = parse_args("veth.create", {"a": a, "b": b}, "h1")
    assert action == VethCreate(
        a=End(NamespaceRef(inode=4026531840), "veth0", ip("10.1.1.2/24"), 9000, True),
        b=BridgeEnd(BR_REF, "veth1", ip("fd00::1/64"), 1500, False),
    )


def test_it_brings_up_a_bridge_port_end_when_asked():
    b = {"bridge": BR, "name": "veth1", "mtu": 1400, "up": True}
    action = parse_args("veth.create", veth(b=b), "h1")
    assert action == VethCreate(
        a=End(NamespaceRef(name="lab"), "veth0"), b=BridgeEnd(BR_REF, "veth1", None, 1400, True)
    )


@pytest.mark.parametrize(
    ("verb", "args", "expected"),
    [
        ("link.move", {"interface": IF, "namespace": "netns1"}, LinkMove(IF_REF, NamespaceRef(name="netns1"))),
        ("link.delete", {"interface": IF}, LinkDelete(IF_REF)),
        ("link.set", {"interface": IF, "up": True}, LinkSet(IF_REF, up=True)),
        ("link.set", {"interface": IF, "mtu": 1400, "name": "x0"}, LinkSet(IF_REF, mtu=1400, name="x0")),
        ("link.set", {"interface": IF, "name": "x0"}, LinkSet(IF_REF, name="x0")),
        ("link.set", {"interface": IF, "up": False}, LinkSet(IF_REF, up=False)),
        ("address.add", {"interface": IF, "address": "10.1.1.2/24"}, AddressChange(IF_REF, ip("10.1.1.2/24"), True)),
        ("address.remove", {"interface": IF, "address": "fd00::2/64"}, AddressChange(IF_REF, ip("fd00::2/64"), False)),
        ("bridge.create", {"namespace": NS, "name": "br0"}, BridgeCreate(NamespaceRef(inode=4026531840), "br0")),
        ("bridge.delete", {"interface": BR}, BridgeDelete(BR_REF)),
        ("bridge.attach", {"interface": IF, "bridge": BR}, BridgePort(IF_REF, BR_REF, True)),
        ("bridge.detach", {"interface": IF}, BridgePort(IF_REF, None, False)),
        ("bridge.detach", {"interface": IF, "bridge": BR}, BridgePort(IF_REF, BR_REF, False)),
        ("netns.create", {"name": "netns1"}, NetnsCreate("netns1")),
        ("netns.delete", {"name": "netns1", "force": True}, NetnsDelete("netns1", True)),
        ("netns.delete", {"name": "netns1"}, NetnsDelete("netns1", False)),
        (
            "ping",
            {"namespace": "lab", "address": "10.1.1.3"},
            Ping(NamespaceRef(name="lab"), ipaddress.ip_address("10.1.1.3"), 3, 5),
        ),
        (
            "ping",
            {"namespace": "lab", "address": "fd00::3", "count": 1, "timeout": 2},
            Ping(NamespaceRef(name="lab"), ipaddress.ip_address("fd00::3"), 1, 2),
        ),
        (
            "ping",
            {"namespace": NS, "address": "10.1.1.3", "count": 20, "timeout": 30},
            Ping(NamespaceRef(inode=4026531840), ipaddress.ip_address("10.1.1.3"), 20, 30),
        ),
    ],
)
def test_it_parses_each_verb(verb: str, args: dict[str, Any], expected: Any):
    assert parse_args(verb, args, "h1") == expected


def test_it_takes_graph_ids_without_the_node_on_the_host_itself():
    assert parse_args("link.delete", {"interface": "if:5:7"}) == LinkDelete(InterfaceRef(5, 7))


def test_it_takes_any_nodes_graph_ids_when_it_is_not_told_its_node():
    assert parse_args("link.delete", {"interface": "h2/if:5:7"}) == LinkDelete(InterfaceRef(5, 7))
    pair = veth(a=end(namespace="h2/ns:5"), b=end(namespace="h3/ns:6", name="v1"))
    assert parse_args("veth.create", pair) == VethCreate(
        a=End(NamespaceRef(inode=5), "veth0"), b=End(NamespaceRef(inode=6), "v1")
    )
    assert namespace_ref("h2/ns:5") == NamespaceRef(inode=5)
    assert interface_ref("h2/if:5:7") == InterfaceRef(5, 7)


# names


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a" * 16, "16 bytes; the kernel allows at most 15"),
        ("é" * 8, "16 bytes"),
        ("", "must not be empty"),
        ("a/b", "'/'"),
        ("a b", "whitespace"),
        ("a\tb", "whitespace"),
        ("a\x01b", "control"),
        ("a:b", "':'"),
        (".", "not a name"),
        ("..", "not a name"),
        (7, "must be a string"),
    ],
)
def test_it_refuses_a_bad_interface_name(name: Any, reason: str):
    assert reason in errors_of("veth.create", veth(a=end(name=name)))["args.a.name"]
    assert reason in errors_of("link.set", {"interface": IF, "name": name})["args.name"]
    assert reason in errors_of("bridge.create", {"namespace": NS, "name": name})["args.name"]


def test_it_takes_a_name_of_exactly_15_bytes():
    assert parse_args("bridge.create", {"namespace": NS, "name": "b" * 15}, "h1") == BridgeCreate(
        NamespaceRef(inode=4026531840), "b" * 15
    )


def test_it_takes_a_namespace_name_of_exactly_63_bytes():
    assert parse_args("netns.create", {"name": "n" * 63}, "h1") == NetnsCreate("n" * 63)
    assert parse_args("link.move", {"interface": IF, "namespace": "n" * 63}, "h1") == LinkMove(
        IF_REF, NamespaceRef(name="n" * 63)
    )


@pytest.mark.parametrize("name", ["BR-X0", "X", "eth0.100", "vethé"])
def test_it_takes_names_with_any_printable_letters_but_the_forbidden_ones(name: str):
    assert parse_args("bridge.create", {"namespace": NS, "name": name}, "h1") == BridgeCreate(
        NamespaceRef(inode=4026531840), name
    )
    assert parse_args("netns.create", {"name": f"lab:{name}"}, "h1") == NetnsCreate(f"lab:{name}")


@pytest.mark.parametrize(
    ("name", "reason"), [("n" * 64, "at most 63"), ("a/b", "'/'"), ("..", "not a name"), ("a b", "whitespace")]
)
def test_it_refuses_a_bad_namespace_name(name: str, reason: str):
    assert reason in errors_of("netns.create", {"name": name})["args.name"]
    assert reason in errors_of("netns.delete", {"name": name})["args.name"]
    assert "namespace name" in errors_of("link.move", {"interface": IF, "namespace": name})["args.namespace"]


def test_it_refuses_two_ends_of_one_name_in_one_namespace():
    assert "both ends" in errors_of("veth.create", veth(b=end()))["args.b.name"]


# references


@pytest.mark.parametrize(
    "ref",
    [
        "h1/ns:0",
        "h1/ns:x",
        "ns:",
        "h1/if:1:2",
        "if:5:7",
        "if:lab",
        "h1/ns:1/x",
        "",
        "/run/netns/x",
        "h 1/ns:5",
        "ns:" + "9" * 21,
    ],
)
def test_it_refuses_a_namespace_reference_that_is_neither_id_nor_name(ref: str):
    assert "args.namespace" in errors_of("bridge.create", {"namespace": ref, "name": "br0"})


@pytest.mark.parametrize("ref", ["h1/if:1", "h1/if:1:0", "h1/ns:1", "if:1:2:3", "eth0", 5, None, "h1/if:01:2"])
def test_it_refuses_an_interface_reference_that_is_not_a_graph_id(ref: Any):
    assert "args.interface" in errors_of("link.delete", {"interface": ref})


def test_it_refuses_a_reference_to_another_node():
    assert "not 'h1'" in errors_of("link.delete", {"interface": "h2/if:5:7"})["args.interface"]
    assert "not 'h1'" in errors_of("veth.create", veth(b=end(namespace="h2/ns:5", name="v1")))["args.b.namespace"]
    assert "not 'h1'" in errors_of("veth.create", veth(a=end(namespace="h2/ns:5")))["args.a.namespace"]


# addresses


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.1.2", "no prefix length"),
        ("10.1.1.2/33", "not an address"),
        ("10.1.1.2/255.255.255.0", "must be a number"),
        ("10.1.1.256/24", "not an IPv4 or IPv6 address"),
        ("010.1.1.2/24", "not an IPv4 or IPv6 address"),
        (" 10.1.1.2/24", "no spaces"),
        ("10.1.1.2/ 24", "must be a number"),
        ("fe80::1%eth0/64", "no zone"),
        ("fd00::1/129", "not an address"),
        ("0.0.0.0/8", "unspecified"),
        ("224.0.0.1/4", "multicast"),
        (["10.1.1.2/24"], "must be a string"),
    ],
)
def test_it_refuses_a_bad_cidr(address: Any, reason: str):
    assert reason in errors_of("address.add", {"interface": IF, "address": address})["args.address"]
    assert reason in errors_of("veth.create", veth(a=end(address=address)))["args.a.address"]


@pytest.mark.parametrize("address", ["10.1.1.3/24", "::", "ff02::1", "localhost", 3])
def test_it_refuses_a_ping_target_that_is_not_one_address(address: Any):
    assert "args.address" in errors_of("ping", {"namespace": "lab", "address": address})


# numbers and flags


@pytest.mark.parametrize(
    ("mtu", "reason"),
    [
        (67, "outside 68..65535"),
        (65536, "outside 68..65535"),
        ("1500", "integer"),
        (True, "integer"),
        (1500.0, "integer"),
    ],
)
def test_it_refuses_an_mtu_out_of_the_kinds_limits(mtu: Any, reason: str):
    assert reason in errors_of("veth.create", veth(a=end(mtu=mtu)))["args.a.mtu"]
    assert reason in errors_of("link.set", {"interface": IF, "mtu": mtu})["args.mtu"]


def test_it_takes_the_mtu_limits_themselves():
    assert parse_args("link.set", {"interface": IF, "mtu": 68}, "h1") == LinkSet(IF_REF, mtu=68)
    assert parse_args("link.set", {"interface": IF, "mtu": 65535}, "h1") == LinkSet(IF_REF, mtu=65535)
    action = parse_args("veth.create", veth(a=end(mtu=68), b=end(namespace="netns1", name="veth1", mtu=65535)), "h1")
    assert action == VethCreate(
        a=End(NamespaceRef(name="lab"), "veth0", None, 68), b=End(NamespaceRef(name="netns1"), "veth1", None, 65535)
    )


@pytest.mark.parametrize(
    ("field", "value"), [("count", 0), ("count", 21), ("timeout", 0), ("timeout", 31), ("count", "3")]
)
def test_it_bounds_ping_count_and_timeout(field: str, value: Any):
    assert f"args.{field}" in errors_of("ping", {"namespace": "lab", "address": "10.1.1.3", field: value})


@pytest.mark.parametrize("value", ["true", 1, None])
def test_it_takes_only_booleans_for_flags(value: Any):
    assert "true or false" in errors_of("link.set", {"interface": IF, "up": value})["args.up"]
    assert "true or false" in errors_of("netns.delete", {"name": "n", "force": value})["args.force"]
    assert "true or false" in errors_of("veth.create", veth(a=end(up=value)))["args.a.up"]


# shape


@pytest.mark.parametrize("verb", VERBS)
def test_it_refuses_an_unknown_field_for_every_verb(verb: str):
    assert "unknown field" in errors_of(verb, {"surprise": 1})["args.surprise"]


@pytest.mark.parametrize("verb", VERBS)
def test_it_refuses_args_that_are_not_an_object(verb: str):
    assert "JSON object" in errors_of(verb, [1])["args"]


def test_it_names_unknown_fields_whose_keys_are_not_strings():
    errors = errors_of("link.set", {1: "x", "surprise": 2, "interface": IF, "up": True})
    assert set(errors) == {"args.1", "args.surprise"}


def test_it_refuses_an_unknown_field_inside_an_end():
    assert "unknown field" in errors_of("veth.create", veth(a=end(peer="x")))["args.a.peer"]


def test_it_refuses_a_bridge_for_the_first_end():
    assert "unknown field" in errors_of("veth.create", veth(a={"bridge": BR, "name": "v0"}))["args.a.bridge"]


@pytest.mark.parametrize(
    ("verb", "args", "field"),
    [
        ("veth.create", {"a": end()}, "args.b"),
        ("veth.create", veth(a=end(name=...)), "args.a.name"),
        ("veth.create", veth(b=end(namespace=..., name="v1")), "args.b.namespace"),
        ("link.move", {"interface": IF}, "args.namespace"),
        ("address.add", {"interface": IF}, "args.address"),
        ("bridge.attach", {"interface": IF}, "args.bridge"),
        ("netns.create", {}, "args.name"),
        ("ping", {"namespace": "lab"}, "args.address"),
    ],
)
def test_it_names_a_missing_field(verb: str, args: dict[str, Any], field: str):
    assert field in errors_of(verb, args)


def test_it_names_only_the_missing_interface_of_a_detach():
    assert errors_of("bridge.detach", {}) == {"args.interface": "required"}


def test_it_refuses_a_link_set_that_sets_nothing():
    assert "nothing to set" in errors_of("link.set", {"interface": IF})["args"]


def test_it_refuses_a_bridge_as_its_own_port():
    assert "itself" in errors_of("bridge.attach", {"interface": BR, "bridge": BR})["args.bridge"]


def test_it_refuses_an_unknown_verb():
    assert "unknown verb" in errors_of("link.explode", {})["verb"]


def test_it_reports_every_bad_field_at_once():
    errors = errors_of("veth.create", veth(a=end(name="a" * 16, mtu=1), b=end(namespace="x/y", name="v1")))
    assert set(errors) == {"args.a.name", "args.a.mtu", "args.b.namespace"}
