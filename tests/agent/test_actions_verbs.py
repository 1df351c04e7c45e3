"""Every lab verb changes the real kernel as asked (agent/actions.py), and marks what it creates."""

from __future__ import annotations

import subprocess

import pytest

from agent.actions import ActionFailed, ActionRefused
from tests.agent.actions_support import Lab, kernel_state, root_state
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_creates_a_pair_between_two_namespaces_with_address_mtu_and_up(topo: Topology, lab: Lab):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    root = root_state(topo, lab)
    made = lab.do(
        "veth.create",
        {
            "a": {"namespace": lab.ns_id(a), "name": "eth0", "address": "10.9.0.1/30", "mtu": 9000, "up": True},
            "b": {"namespace": b.name, "name": "eth0", "address": "fd00:9::2/64", "up": True},
        },
    )
    left, right = topo.link(a, "eth0"), topo.link(b, "eth0")
    assert (left["mtu"], right["mtu"]) == (9000, 1500)
    assert "UP" in left["flags"] and "UP" in right["flags"]
    assert left["link_index"] == right["ifindex"] and right["link_index"] == left["ifindex"], "the ends are not peers"
    assert left["ifalias"] == right["ifalias"] and left["ifalias"].startswith("nsmap:")
    assert made["a"]["interface"] == lab.if_id(a, "eth0") and made["b"]["interface"] == lab.if_id(b, "eth0")
    assert "10.9.0.1" in str(topo.addrs(a)) and "fd00:9::2" in str(topo.addrs(b))
    assert root_state(topo, lab) == root, "a pair between two namespaces left something in the root namespace"


def test_it_creates_an_end_as_a_port_of_a_bridge(topo: Topology, lab: Lab):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.bridge(b, "br0")
    made = lab.do(
        "veth.create", {"a": {"namespace": a.name, "name": "v0"}, "b": {"bridge": lab.if_id(b, "br0"), "name": "port0"}}
    )
    assert topo.link(b, "port0")["master"] == "br0"
    assert made["b"]["bridge"] == lab.if_id(b, "br0")


def test_it_deletes_a_pair_by_either_end_and_names_the_peer(topo: Topology, lab: Lab):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    lab.do("veth.create", {"a": {"namespace": a.name, "name": "v0"}, "b": {"namespace": b.name, "name": "v1"}})
    v1, v0_index = lab.if_id(b, "v1"), topo.link(a, "v0")["ifindex"]
    result = lab.do("link.delete", {"interface": v1})
    assert topo.link_names(a) == ["lo"] and topo.link_names(b) == ["lo"], "the kernel deletes both ends"
    assert result == {"deleted": v1, "name": "v1", "kind": "veth", "peer_ifindex": v0_index}


def test_it_renames_changes_mtu_and_brings_down(topo: Topology, lab: Lab):
    a = topo.add_netns("a")
    made = lab.do(
        "veth.create", {"a": {"namespace": a.name, "name": "v0", "up": True}, "b": {"namespace": a.name, "name": "v1"}}
    )
    result = lab.do("link.set", {"interface": made["a"]["interface"], "name": "left", "mtu": 1400, "up": False})
    link = topo.link(a, "left")
    assert (link["mtu"], "UP" in link["flags"]) == (1400, False)
    assert result == {"interface": made["a"]["interface"], "name": "left", "mtu": 1400, "up": False}


def test_it_adds_and_removes_addresses(topo: Topology, lab: Lab):
    a = topo.add_netns("a")
    made = lab.do("veth.create", {"a": {"namespace": a.name, "name": "v0"}, "b": {"namespace": a.name, "name": "v1"}})
    ref = made["a"]["interface"]
    lab.do("address.add", {"interface": ref, "address": "10.2.0.1/24"})
    added = lab.do("address.add", {"interface": ref, "address": "fd00:2::1/64"})
    assert added["addresses"] == ["10.2.0.1/24", "fd00:2::1/64"]
    removed = lab.do("address.remove", {"interface": ref, "address": "10.2.0.1/24"})
    assert removed["addresses"] == ["fd00:2::1/64"]
    assert "10.2.0.1" not in str(topo.addrs(a))


def test_it_creates_attaches_detaches_and_deletes_a_bridge(topo: Topology, lab: Lab):
    a = topo.add_netns("a")
    bridge = lab.do("bridge.create", {"namespace": lab.ns_id(a), "name": "br0"})
    link = topo.link(a, "br0")
    assert link["linkinfo"]["info_kind"] == "bridge" and link["ifalias"].startswith("nsmap:")
    made = lab.do("veth.create", {"a": {"namespace": a.name, "name": "v0"}, "b": {"namespace": a.name, "name": "v1"}})
    lab.do("bridge.attach", {"interface": made["a"]["interface"], "bridge": bridge["interface"]})
    assert topo.link(a, "v0")["master"] == "br0"
    lab.do("bridge.detach", {"interface": made["a"]["interface"], "bridge": bridge["interface"]})
    assert "master" not in topo.link(a, "v0")
    lab.do("bridge.delete", {"interface": bridge["interface"]})
    assert topo.link_names(a) == ["lo", "v0", "v1"]


def test_it_creates_and_deletes_a_named_namespace(topo: Topology, lab: Lab):
    name = topo.name("n1")
    made = lab.do("netns.create", {"name": name})
    assert made["namespace"] == lab.ns_id(lab.netns(name))
    assert topo.link_names(lab.netns(name)) == ["lo"]
    lab.do("netns.delete", {"name": name})
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_it_deletes_a_namespace_holding_only_what_nsmap_made(topo: Topology, lab: Lab):
    name = topo.name("n1")
    lab.do("netns.create", {"name": name})
    lab.do("veth.create", {"a": {"namespace": name, "name": "v0"}, "b": {"namespace": name, "name": "v1"}})
    lab.do("netns.delete", {"name": name})
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_it_refuses_to_delete_a_namespace_with_a_process_unless_forced(topo: Topology, lab: Lab):
    ns = topo.attach(topo.process_netns(), "p")  # named, and a process in it (killed by the Topology)
    with pytest.raises(ActionRefused, match="processes still run"):
        lab.do("netns.delete", {"name": ns.name})
    assert ns.name in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    result = lab.do("netns.delete", {"name": ns.name, "force": True})
    assert ns.pid in result["forced_over"]["pids"]


def test_it_refuses_to_delete_a_namespace_with_a_foreign_interface_unless_forced(topo: Topology, lab: Lab):
    ns = topo.add_netns("f")
    topo.bridge(ns, "theirs")
    with pytest.raises(ActionRefused, match=r"interfaces nsmap did not create \(theirs\)"):
        lab.do("netns.delete", {"name": ns.name})
    assert topo.link_names(ns) == ["lo", "theirs"]
    lab.do("netns.delete", {"name": ns.name, "force": True})


def test_it_pings_and_reports_loss_when_nothing_answers(topo: Topology, lab: Lab):
    a = topo.add_netns("a")
    made = lab.do(
        "veth.create",
        {
            "a": {"namespace": a.name, "name": "v0", "address": "10.3.0.1/24", "up": True},
            "b": {"namespace": a.name, "name": "v1", "up": True},
        },
    )
    assert made["a"]["up"]
    result = lab.do("ping", {"namespace": lab.ns_id(a), "address": "10.3.0.9", "count": 2, "timeout": 2})
    assert (result["sent"], result["received"], result["loss"], result["rtt_ms"]) == (2, 0, 100.0, None)
    assert (result["interface"], result["via"]) == (made["a"]["interface"], None), (
        f"the ping left by its connected subnet's v0, with no gateway: {result}"
    )


def test_it_says_which_interface_and_gateway_a_ping_left_by(topo: Topology, lab: Lab):
    a = topo.add_netns("a")
    made = lab.do(
        "veth.create",
        {
            "a": {"namespace": a.name, "name": "v0", "address": "10.5.0.1/24", "up": True},
            "b": {"namespace": a.name, "name": "v1", "address": "10.6.0.1/24", "up": True},
        },
    )
    topo.ip(a, "route", "add", "10.7.0.0/24", "via", "10.6.0.2")
    result = lab.do("ping", {"namespace": a.name, "address": "10.7.0.9", "count": 1, "timeout": 1})
    assert (result["interface"], result["via"]) == (made["b"]["interface"], "10.6.0.2"), (
        f"a routed ping leaves by v1 towards its gateway: {result}"
    )


def test_it_deletes_the_half_made_pair_when_a_later_step_fails(topo: Topology, lab: Lab):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.ip(b, "link", "set", "lo", "up")
    subprocess.run(["ip", "netns", "exec", b.name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"], check=True)
    before = kernel_state(topo, a, b), root_state(topo, lab)
    with pytest.raises(ActionFailed, match=r"refused a step of veth\.create: Permission denied") as failed:
        lab.do(
            "veth.create",  # the pair is born and marked before b's IPv6 address is refused
            {
                "a": {"namespace": a.name, "name": "v0"},
                "b": {"namespace": b.name, "name": "v1", "address": "fd00:7::1/64"},
            },
        )
    assert failed.value.undone, str(failed.value)
    assert (kernel_state(topo, a, b), root_state(topo, lab)) == before, "the pair, or part of it, was left behind"
