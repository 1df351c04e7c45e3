"""A refused verb says exactly why, in the words the API's 400 and the CLI show: the JSON type that
arrived, the limit and its unit, the fields allowed, and at most 60 characters of what was sent."""

from __future__ import annotations

from typing import Any

import pytest

from agent.verbs import ArgsError, parse_args
from tests.agent.verbs_support import BR, IF, NS, end, errors_of, veth

KNOWN = (
    "veth.create, link.move, link.delete, link.set, address.add, address.remove, bridge.create, "
    "bridge.delete, bridge.attach, bridge.detach, netns.create, netns.delete, ping"
)
LONG = "x" * 70  # longer than the 60 characters a reason quotes


@pytest.mark.parametrize(
    ("value", "json_type"),
    [({"x": 1}, "object"), ([1], "array"), ("true", "string"), (None, "null"), (1, "int"), (1.5, "float")],
)
def test_it_names_the_json_type_that_arrived(value: Any, json_type: str):
    assert errors_of("link.set", {"interface": IF, "up": value}) == {
        "args.up": f"must be true or false, got {json_type}"
    }


@pytest.mark.parametrize(
    ("verb", "args", "field", "reason"),
    [
        ("link.set", {"interface": IF, "mtu": True}, "args.mtu", "must be an integer, got boolean"),
        ("bridge.create", {"namespace": NS, "name": 7}, "args.name", "must be a string, got int"),
        ("netns.create", {"name": 7}, "args.name", "must be a string, got int"),
        (
            "bridge.create",
            {"namespace": 7, "name": "br0"},
            "args.namespace",
            "must be a graph id like 'h1/ns:4026531840' or a namespace name, got int",
        ),
        ("link.delete", {"interface": 5}, "args.interface", "must be a graph id like 'h1/if:4026531840:2', got int"),
        (
            "address.add",
            {"interface": IF, "address": ["x"]},
            "args.address",
            "must be a string like '10.1.1.2/24', got array",
        ),
        ("ping", {"namespace": "lab", "address": 3}, "args.address", "must be a string like '10.1.1.3', got int"),
        ("veth.create", veth(a=end(mtu="1500")), "args.a.mtu", "must be an integer, got string"),
        ("netns.delete", {"name": "n", "force": "yes"}, "args.force", "must be true or false, got string"),
        (
            "ping",
            {"namespace": "lab", "address": "10.1.1.3", "count": "3"},
            "args.count",
            "must be an integer, got string",
        ),
        ("link.move", [1], "args", "must be a JSON object, got array"),
        ("veth.create", veth(a="veth0"), "args.a", "must be a JSON object, got string"),
    ],
)
def test_it_names_what_a_field_must_be_and_what_it_got(verb: str, args: Any, field: str, reason: str):
    assert errors_of(verb, args) == {field: reason}


@pytest.mark.parametrize(
    ("verb", "args", "field", "reason"),
    [
        ("bridge.create", {"namespace": NS, "name": ""}, "args.name", "must not be empty"),
        ("netns.create", {"name": ""}, "args.name", "must not be empty"),
        (
            "bridge.create",
            {"namespace": NS, "name": "b" * 16},
            "args.name",
            "is 16 bytes; the kernel allows at most 15",
        ),
        ("netns.create", {"name": "n" * 64}, "args.name", "is 64 bytes; at most 63"),
        ("veth.create", veth(a=end(mtu=67)), "args.a.mtu", "67 is outside 68..65535 for a veth"),
        ("link.set", {"interface": IF, "mtu": 65536}, "args.mtu", "65536 is outside 68..65535 bytes"),
        ("ping", {"namespace": "lab", "address": "10.1.1.3", "count": 21}, "args.count", "21 is outside 1..20 packets"),
        (
            "ping",
            {"namespace": "lab", "address": "10.1.1.3", "timeout": 31},
            "args.timeout",
            "31 is outside 1..30 seconds",
        ),
        (
            "bridge.create",
            {"namespace": "n" * 200, "name": "br0"},
            "args.namespace",
            "is not a namespace name: is 200 bytes; at most 63",
        ),
        (
            "bridge.create",
            {"namespace": "n" * 201, "name": "br0"},
            "args.namespace",
            "is 201 characters; too long for a namespace",
        ),
    ],
)
def test_it_states_the_limit_a_value_broke(verb: str, args: dict[str, Any], field: str, reason: str):
    assert errors_of(verb, args) == {field: reason}


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("a/b", "'a/b' is neither a graph id 'NODE/ns:INODE' nor a namespace name"),
        ("if:5:7", "'if:5:7' is neither a graph id 'NODE/ns:INODE' nor a namespace name"),
        ("h1/" + LONG, f"{('h1/' + LONG)[:60]!r} is neither a graph id 'NODE/ns:INODE' nor a namespace name"),
        ("h2/ns:5", "is on node 'h2', not 'h1' (a command acts on one host)"),
    ],
)
def test_it_says_why_a_namespace_reference_is_refused(ref: str, reason: str):
    assert errors_of("link.move", {"interface": IF, "namespace": ref}) == {"args.namespace": reason}


@pytest.mark.parametrize(
    ("verb", "args", "field", "reason"),
    [
        (
            "link.delete",
            {"interface": "eth" + LONG},
            "args.interface",
            f"{('eth' + LONG)[:60]!r} is not an interface graph id 'NODE/if:NSINODE:IFINDEX'",
        ),
        (
            "address.add",
            {"interface": IF, "address": LONG},
            "args.address",
            f"{LONG[:60]!r} has no prefix length (write it as 10.1.1.2/24)",
        ),
        (
            "address.add",
            {"interface": IF, "address": LONG + "/x"},
            "args.address",
            f"{LONG[:60]!r}: the prefix length must be a number (no netmask, no spaces)",
        ),
        (
            "address.add",
            {"interface": IF, "address": LONG + "/24"},
            "args.address",
            f"{LONG[:60]!r} is not an address: {LONG[:60]!r} is not an IPv4 or IPv6 address",
        ),
        (
            "ping",
            {"namespace": "lab", "address": " " + LONG},
            "args.address",
            f"{(' ' + LONG)[:60]!r} is not an IP address (no spaces, no zone)",
        ),
        (
            "ping",
            {"namespace": "lab", "address": LONG},
            "args.address",
            f"{LONG[:60]!r} is not an IPv4 or IPv6 address",
        ),
    ],
)
def test_it_quotes_at_most_60_characters_of_a_bad_value(verb: str, args: dict[str, Any], field: str, reason: str):
    assert errors_of(verb, args) == {field: reason}


def test_it_reads_a_second_slash_as_part_of_the_prefix_length():
    reason = "'10.1.1.2/24/5': the prefix length must be a number (no netmask, no spaces)"
    assert errors_of("address.add", {"interface": IF, "address": "10.1.1.2/24/5"}) == {"args.address": reason}


@pytest.mark.parametrize(
    ("verb", "args", "field", "reason"),
    [
        ("link.move", {"interface": IF}, "args.namespace", "required"),
        ("bridge.attach", {"interface": IF}, "args.bridge", "required"),
        ("link.set", {"interface": IF}, "args", "nothing to set: give up, mtu or name"),
        ("bridge.attach", {"interface": BR, "bridge": BR}, "args.bridge", "an interface cannot be a port of itself"),
        ("bridge.detach", {"interface": BR, "bridge": BR}, "args.bridge", "an interface cannot be a port of itself"),
        ("veth.create", veth(b=end()), "args.b.name", "both ends are called 'veth0' in the same namespace"),
    ],
)
def test_it_says_what_is_missing_or_contradictory(verb: str, args: dict[str, Any], field: str, reason: str):
    assert errors_of(verb, args) == {field: reason}


@pytest.mark.parametrize(
    ("verb", "allowed"),
    [
        ("veth.create", "a, b"),
        ("link.move", "interface, namespace"),
        ("link.delete", "interface"),
        ("link.set", "interface, up, mtu, name"),
        ("address.add", "interface, address"),
        ("address.remove", "interface, address"),
        ("bridge.create", "namespace, name"),
        ("bridge.delete", "interface"),
        ("bridge.attach", "interface, bridge"),
        ("bridge.detach", "interface, bridge"),
        ("netns.create", "name"),
        ("netns.delete", "name, force"),
        ("ping", "namespace, address, count, timeout"),
    ],
)
def test_it_lists_the_fields_a_verb_allows(verb: str, allowed: str):
    assert errors_of(verb, {"surprise": 1})["args.surprise"] == f"unknown field (allowed: {allowed})"


def test_it_lists_the_fields_an_end_allows():
    assert errors_of("veth.create", veth(a=end(peer="x")))["args.a.peer"] == (
        "unknown field (allowed: namespace, name, address, mtu, up)"
    )
    assert errors_of("veth.create", veth(b={"bridge": BR, "name": "v1", "peer": "x"}))["args.b.peer"] == (
        "unknown field (allowed: bridge, name, address, mtu, up)"
    )


@pytest.mark.parametrize(
    ("verb", "quoted"), [("link.explode", "'link.explode'"), (5, "'5'"), ("v" * 50, repr("v" * 40))]
)
def test_it_quotes_an_unknown_verb_and_lists_the_known_ones(verb: Any, quoted: str):
    assert errors_of(verb, {}) == {"verb": f"unknown verb {quoted}; known: {KNOWN}"}


def test_it_joins_every_problem_into_one_message():
    with pytest.raises(ArgsError) as caught:
        parse_args("veth.create", veth(a=end(name="a" * 16, mtu=1)), "h1")
    assert str(caught.value) == (
        "args.a.name: is 16 bytes; the kernel allows at most 15; args.a.mtu: 1 is outside 68..65535 for a veth"
    )
