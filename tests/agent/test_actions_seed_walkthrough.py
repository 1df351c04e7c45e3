"""The classic first lab (a veth pair, addresses, a move, a ping), done by the agent's own verbs
against the real kernel.

Create veth0/veth1 in a new named namespace (MTU 1500, DOWN), bring both up, give them
10.1.1.2/24 and 10.1.1.3/24, move veth1 into a new namespace netns1 (the kernel drops its
address: re-apply it), ping across: 0% loss. Traffic stays inside the test's namespaces.
"""

from __future__ import annotations

import pytest

from tests.agent.actions_support import Lab
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_walks_through_the_seed_chapter(topo: Topology, lab: Lab):
    lab_name, netns1_name = topo.name("lab"), topo.name("ns1")
    lab.do("netns.create", {"name": lab_name})
    lab.do("netns.create", {"name": netns1_name})
    ns, netns1 = lab.netns(lab_name), lab.netns(netns1_name)

    made = lab.do(
        "veth.create", {"a": {"namespace": lab_name, "name": "veth0"}, "b": {"namespace": lab_name, "name": "veth1"}}
    )
    for dev in ("veth0", "veth1"):
        link = topo.link(ns, dev)
        assert (link["mtu"], link["operstate"], "UP" in link["flags"]) == (1500, "DOWN", False), (
            f"{dev} not as the seed shows: {link}"
        )
        assert link["linkinfo"]["info_kind"] == "veth"
        assert link["ifalias"].startswith("nsmap:"), "nsmap did not mark what it created"
    assert topo.link(ns, "veth0").get("link") == "veth1", "veth0 and veth1 are not one pair"

    for key in ("a", "b"):
        lab.do("link.set", {"interface": made[key]["interface"], "up": True})
    lab.do("address.add", {"interface": made["a"]["interface"], "address": "10.1.1.2/24"})
    lab.do("address.add", {"interface": made["b"]["interface"], "address": "10.1.1.3/24"})
    assert "UP" in topo.link(ns, "veth0")["flags"] and "UP" in topo.link(ns, "veth1")["flags"]
    assert topo.addresses(ns, "veth0") == ["10.1.1.2/24"] and topo.addresses(ns, "veth1") == ["10.1.1.3/24"]

    moved = lab.do("link.move", {"interface": made["b"]["interface"], "namespace": netns1_name})
    assert [link["ifname"] for link in topo.links(netns1)] == ["lo", "veth1"], "veth1 did not arrive in netns1"
    assert "veth1" not in [link["ifname"] for link in topo.links(ns)]
    assert moved["dropped_addresses"] == ["10.1.1.3/24"], (
        "the move result does not say which address the kernel dropped"
    )
    assert topo.addresses(netns1, "veth1") == [], "the kernel keeps addresses across a move?"

    lab.do("address.add", {"interface": moved["interface"], "address": moved["dropped_addresses"][0]})
    lab.do("link.set", {"interface": moved["interface"], "up": True})
    result = lab.do("ping", {"namespace": lab_name, "address": "10.1.1.3", "count": 3, "timeout": 5})
    assert (result["sent"], result["received"], result["loss"]) == (3, 3, 0.0), f"ping across lost packets: {result}"
    assert 0 < result["rtt_ms"]["min"] <= result["rtt_ms"]["avg"] <= result["rtt_ms"]["max"]
    assert result["interface"] == made["a"]["interface"], f"the ping did not leave by veth0: {result}"
