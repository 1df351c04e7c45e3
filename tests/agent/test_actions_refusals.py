"""Bad or dangerous lab commands are refused before anything changes: the kernel is the same after.

Each test compares iproute2's own view (`ip -j -d link`, `ip -j addr`) of the test's namespaces,
of the host's eth0 and lo, and of the test's links in the root namespace, before and after. The
host's uplink is only ever named in a command that must be refused; nothing else here goes near it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agent.actions import ActionRefused, Policy
from agent.verbs import ArgsError
from tests.agent.actions_support import Lab, agent_in, kernel_state, root_state, uplink_state
from tests.kernel_topology import Netns, Topology

pytestmark = pytest.mark.kernel


@pytest.fixture
def pair(topo: Topology, lab: Lab) -> tuple[Netns, Netns, dict[str, Any]]:
    """Namespaces a and b with an nsmap-made pair v0 (a, 10.4.0.1/24) - v1 (b)."""
    a, b = topo.add_netns("a"), topo.add_netns("b")
    made = lab.do(
        "veth.create",
        {"a": {"namespace": a.name, "name": "v0", "address": "10.4.0.1/24"}, "b": {"namespace": b.name, "name": "v1"}},
    )
    return a, b, made


@pytest.fixture
def refuse(
    topo: Topology, lab: Lab, pair: tuple[Netns, Netns, dict[str, Any]]
) -> Callable[[str, dict[str, Any], str], None]:
    """``refuse(verb, args, match)``: the command is refused with ``match`` and namespaces a, b,
    the host's uplinks and the test's links in the root namespace are unchanged."""
    return lambda verb, args, match: refused(topo, lab, pair[:2], verb, args, match)


def refused(topo: Topology, lab: Lab, spaces: tuple[Netns, ...], verb: str, args: dict[str, Any], match: str) -> None:
    before = kernel_state(topo, *spaces) + uplink_state(topo) + [root_state(topo, lab)]
    with pytest.raises((ActionRefused, ArgsError), match=match):
        lab.do(verb, args)
    assert kernel_state(topo, *spaces) + uplink_state(topo) + [root_state(topo, lab)] == before, (
        f"{verb} {args} was refused but changed the kernel"
    )


# input the validator refuses (nothing reaches the kernel)


@pytest.mark.parametrize(
    ("name", "match"), [("a" * 16, "16 bytes"), ("v 0", "whitespace"), ("v/0", "'/'"), ("..", "not a name")]
)
def test_it_refuses_a_bad_name_and_changes_nothing(topo: Topology, lab: Lab, pair, refuse, name: str, match: str):
    a, b, made = pair
    refuse(
        "veth.create",
        {"a": {"namespace": a.name, "name": name}, "b": {"namespace": b.name, "name": "x"}},
        match,
    )
    refuse("link.set", {"interface": made["a"]["interface"], "name": name}, match)


def test_it_refuses_a_bad_cidr_and_changes_nothing(topo: Topology, lab: Lab, pair, refuse):
    _a, _b, made = pair
    refuse(
        "address.add",
        {"interface": made["a"]["interface"], "address": "10.4.0.300/24"},
        "not an IPv4",
    )
    refuse("address.add", {"interface": made["a"]["interface"], "address": "10.4.0.3"}, "no prefix")


def test_it_refuses_an_mtu_out_of_range_and_changes_nothing(topo: Topology, lab: Lab, pair, refuse):
    a, b, made = pair
    refuse("link.set", {"interface": made["a"]["interface"], "mtu": 65536}, "outside 68..65535")
    refuse(
        "veth.create",
        {"a": {"namespace": a.name, "name": "x0", "mtu": 67}, "b": {"namespace": b.name, "name": "x1"}},
        "outside",
    )


# what only the kernel can answer


def test_it_refuses_a_name_taken_in_the_target_and_changes_nothing(topo: Topology, lab: Lab, pair, refuse):
    a, b, made = pair
    refuse(
        "veth.create",
        {"a": {"namespace": a.name, "name": "x0"}, "b": {"namespace": b.name, "name": "v1"}},
        "'v1' is taken",
    )
    refuse("link.set", {"interface": made["a"]["interface"], "name": "lo"}, "'lo' is taken")
    topo.veth("v0", b, "w", b)  # b now has a v0 of its own (not nsmap's)
    refuse("link.move", {"interface": made["a"]["interface"], "namespace": b.name}, "'v0' is taken")


def test_it_refuses_an_unknown_namespace_or_interface_and_changes_nothing(topo: Topology, lab: Lab, pair, refuse):
    a, _b, made = pair
    gone = topo.name("gone")
    refuse(
        "veth.create",
        {"a": {"namespace": a.name, "name": "x0"}, "b": {"namespace": gone, "name": "x1"}},
        "no named namespace",
    )
    refuse(
        "link.move",
        {"interface": made["a"]["interface"], "namespace": "h1/ns:1"},
        "no namespace ns:1",
    )
    refuse("link.delete", {"interface": f"h1/if:{a.inode}:99999"}, "no interface with index 99999")
    refuse("ping", {"namespace": gone, "address": "10.4.0.1"}, "no named namespace")


def test_it_refuses_an_mtu_beyond_the_interfaces_own_limit(topo: Topology, lab: Lab, pair, refuse):
    a, _b, _ = pair
    topo.tap(a, "t0")  # tun's own max_mtu is below the validator's 65535
    ref = lab.if_id(a, "t0")
    limit = topo.link(a, "t0")["max_mtu"]
    if limit >= 65535:
        pytest.skip(f"tun's max_mtu is {limit} on this kernel: no limit narrower than the validator's to test")
    refuse("link.set", {"interface": ref, "mtu": limit + 1}, f"outside 68..{limit}")


# never the host's uplinks


def test_it_refuses_every_verb_on_the_hosts_uplink_before_acting(topo: Topology, lab: Lab, pair, refuse):
    a, _b, _ = pair
    eth0 = lab.if_id(topo.root, "eth0")
    for verb, args in [
        ("link.delete", {"interface": eth0}),
        ("link.move", {"interface": eth0, "namespace": a.name}),
        ("link.set", {"interface": eth0, "name": "x"}),
        ("address.add", {"interface": eth0, "address": "10.4.9.9/32"}),
        ("bridge.detach", {"interface": eth0}),
    ]:
        refuse(verb, args, "device|physical|default route")


def test_it_refuses_an_interface_carrying_a_default_route_even_if_nsmap_made_it(topo: Topology, lab: Lab, pair, refuse):
    a, _b, _ = pair
    up = topo.name("u0")
    topo.veth(up, topo.root, "u1", a)
    topo.alias(topo.root, up, "nsmap:made-by-the-test")  # ownership alone would allow the delete
    topo.up(topo.root, up)
    topo.ip(topo.root, "route", "add", "default", "dev", up, "table", "4242")  # a table no rule uses
    refuse("link.delete", {"interface": lab.if_id(topo.root, up)}, "default route")
    assert topo.link(topo.root, up)["ifname"] == up


def test_it_refuses_a_port_on_a_bridge_carrying_a_default_route(topo: Topology, lab: Lab, pair, refuse):
    a, _b, made = pair
    uplink = topo.name("br")
    topo.bridge(topo.root, uplink)
    topo.up(topo.root, uplink)
    topo.ip(topo.root, "route", "add", "default", "dev", uplink, "table", "4243")  # a table no rule uses
    bridge = lab.if_id(topo.root, uplink)
    refuse(
        "veth.create",
        {"a": {"namespace": a.name, "name": "x0"}, "b": {"bridge": bridge, "name": "x1"}},
        "default route",
    )
    refuse("bridge.attach", {"interface": made["a"]["interface"], "bridge": bridge}, "default route")
    assert "master" not in topo.link(a, "v0")


def test_it_refuses_to_take_a_port_off_the_uplink_bridge_it_is_on(topo: Topology):
    # The agent runs inside a namespace the test made (agent_in): its default route there is that
    # host's uplink, so the test routes nothing of the real host's.
    host = topo.add_netns("host")
    topo.bridge(host, "up0")
    topo.up(host, "up0")
    topo.ip(host, "route", "add", "default", "dev", "up0")
    topo.bridge(host, "br1")
    topo.veth("p0", host, "p1", host)
    topo.master(host, "p0", "up0")
    port = f"h1/if:{host.inode}:{topo.link(host, 'p0')['ifindex']}"
    other = f"h1/if:{host.inode}:{topo.link(host, 'br1')['ifindex']}"
    before = kernel_state(topo, host) + uplink_state(topo)
    for verb, args in [("bridge.detach", {"interface": port}), ("bridge.attach", {"interface": port, "bridge": other})]:
        proc = agent_in(host, verb, args)
        assert (proc.returncode, "up0 carries the host's default route" in proc.stderr) == (2, True), (
            f"{verb} of a port of the uplink bridge was not refused as such: {proc.returncode} {proc.stderr}"
        )
    assert kernel_state(topo, host) + uplink_state(topo) == before, "a refused detach or attach changed the kernel"
    assert topo.link(host, "p0")["master"] == "up0"


def test_it_refuses_loopback(topo: Topology, lab: Lab, pair, refuse):
    a, _b, _ = pair
    refuse("link.set", {"interface": lab.if_id(a, "lo"), "up": True}, "loopback")
    refuse("link.delete", {"interface": lab.if_id(a, "lo")}, "loopback")


# what nsmap did not create


def test_it_refuses_to_move_rename_or_delete_a_foreign_interface(topo: Topology, lab: Lab, pair, refuse):
    a, b, _ = pair
    topo.veth("f0", a, "f1", b)  # made with `ip link`, not by nsmap
    f0 = lab.if_id(a, "f0")
    refuse("link.delete", {"interface": f0}, "nsmap did not create f0")
    refuse("link.move", {"interface": f0, "namespace": b.name}, "nsmap did not create f0")
    refuse("link.set", {"interface": f0, "name": "g0"}, "nsmap did not create f0")
    topo.bridge(a, "fbr")
    refuse("bridge.delete", {"interface": lab.if_id(a, "fbr")}, "nsmap did not create fbr")


def test_it_acts_on_a_foreign_interface_listed_as_an_exception(topo: Topology, pair):
    a, b, _ = pair
    topo.veth("f0", a, "f1", b)
    allowed = Lab(topo, Policy.from_env({"NSMAP_AGENT_ALLOW_FOREIGN": "other, f0"}))
    try:
        allowed.do("link.delete", {"interface": allowed.if_id(a, "f0")})
    finally:
        allowed.actions.close()
    assert "f0" not in [link["ifname"] for link in topo.links(a)]


def test_it_refuses_a_nonsense_exception_list():
    with pytest.raises(ValueError, match="NSMAP_AGENT_ALLOW_FOREIGN: 'a b'"):
        Policy.from_env({"NSMAP_AGENT_ALLOW_FOREIGN": "ok,a b"})


def test_it_refuses_an_attach_across_namespaces(topo: Topology, lab: Lab, pair, refuse):
    _a, b, made = pair
    bridge = lab.do("bridge.create", {"namespace": b.name, "name": "br0"})
    refuse(
        "bridge.attach",
        {"interface": made["a"]["interface"], "bridge": bridge["interface"]},
        "is in",
    )
