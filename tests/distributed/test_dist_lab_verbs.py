"""Every lab verb through the whole path, in both modes: API (an operator's Bearer token) -> queue
(distributed) or in-process (embedded) -> agent -> kernel -> event -> graph -> change log.

One scenario wires a lab the way a person would (namespaces, a pair, up, addresses, a ping
across, a move, a bridge and its port, then everything taken apart again), so each verb runs
once per mode. After each command the test checks, in this order: the command reached ``done``;
the kernel (``ip -j``) is as asked; the graph a WebSocket client holds shows it; the change log
has the changes, with the actor ``user:<the token's user>`` and the command's id.

Everything lives in namespaces the API made under the test's Topology prefix, so a failing test
leaves nothing behind: the Topology deletes every /run/netns entry carrying its prefix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.distributed.harness import ARRIVAL, Api, Cluster, LiveGraph, operator, settle, wait_until
from tests.e2e.conftest import Server, server  # noqa: F401 - the embedded nsmap_serve fixture, reused
from tests.kernel_topology import Netns, Topology

pytestmark = [pytest.mark.distributed, pytest.mark.kernel]

COMMAND_TIMEOUT = 60.0  # seconds from 202 to done: generous for a loaded 2-core machine


@dataclass
class Lab:
    """The whole path as one operator sees it: the API, a live graph on the WebSocket, one node."""

    api: Api
    live: LiveGraph
    node: str
    user: str
    topo: Topology

    # -- the API -----------------------------------------------------------------------------------

    def do(self, verb: str, args: dict[str, Any]) -> dict[str, Any]:
        """POST the command, wait until it is done; the command as GET returns it."""
        status, body = self.api.post("/api/v1/commands/", {"node": self.node, "verb": verb, "args": args})
        assert status == 202, f"{verb} {args}: the API answered {status}, not 202: {body}"
        ident = body["id"]

        def finished() -> dict[str, Any] | None:
            command = self.api.get(f"/api/v1/commands/{ident}/")
            return command if command["status"] in ("done", "failed") else None

        command = wait_until(finished, COMMAND_TIMEOUT, f"{verb} command {ident} to finish")
        assert command["status"] == "done", f"{verb} {args} failed: {command['error']}"
        assert command["actor"] == self.user, f"{verb}: the command's actor is {command['actor']!r}"
        return command

    # -- the graph ---------------------------------------------------------------------------------

    def shows(self, what: str, check: Callable[[], Any]) -> Any:
        """Wait until the live graph satisfies ``check``; ``what`` says what the page should show."""
        return self.live.wait(check, ARRIVAL, f"the graph to show {what}")

    def interface(self, ident: str) -> dict[str, Any] | None:
        return self.live.interfaces.get(ident)

    def namespace_named(self, name: str) -> dict[str, Any] | None:
        return next(
            (n for n in self.live.namespaces.values() if n.get("host") == self.node and name in n["names"]), None
        )

    # -- the change log ----------------------------------------------------------------------------

    def logged(self, command: dict[str, Any], expected: dict[str, set[str]]) -> list[dict[str, Any]]:
        """The change log has, for each object id in ``expected``, a record of one of the given
        actions carrying this command's id; every record with that id names the command's user."""
        ident, verb = command["id"], command["verb"]
        last: list[dict[str, Any]] = []

        def complete() -> list[dict[str, Any]] | None:
            last[:] = self.api.get("/api/v1/changes/", {"node": self.node, "request_id": ident})["results"]
            have = {(r["object_id"], r["action"]) for r in last}
            return last if all(any((o, a) in have for a in actions) for o, actions in expected.items()) else None

        try:
            records = wait_until(
                complete,
                ARRIVAL,
                f"the change log's records of {verb} {ident}",
            )
        except AssertionError:
            everything = self.api.get("/api/v1/changes/", {"node": self.node, "page_size": 30})["results"]
            seen = "\n".join(
                f"  {r['action']} {r['object_id']} {r['name']} actor={r['actor']} request_id={r['request_id']}"
                for r in everything
            )
            raise AssertionError(
                f"{verb} {ident}: the change log lacks {expected} attributed to it; "
                f"its records: {[(r['object_id'], r['action']) for r in last]}; the newest records:\n{seen}"
            ) from None
        actors = {r["actor"] for r in records}
        assert actors == {f"user:{self.user}"}, f"{verb}: its change records name {actors}, not user:{self.user}"
        return records


def addresses(topo: Topology, ns: Netns, name: str) -> set[str]:
    return {
        f"{a['local']}/{a['prefixlen']}"
        for entry in topo.ipj(ns, "addr", "show", "dev", name)
        for a in entry.get("addr_info", [])
        if a.get("scope") != "link"
    }


def netns_names() -> set[str]:
    return set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()


def wire_a_lab(lab: Lab) -> None:
    """Every verb once, in the order a lab is wired and taken apart, checked at every layer."""
    topo = lab.topo

    # netns.create: three namespaces, named under the test's prefix
    spaces: dict[str, Netns] = {}
    ns_ids: dict[str, str] = {}
    for tag in ("a", "b", "c"):
        name = topo.name(tag)
        done = lab.do("netns.create", {"name": name})
        (spaces[tag],) = topo.adopt_netns([name])
        assert name in netns_names(), f"netns.create {name}: /run/netns/{name} does not exist"
        ns_ids[tag] = done["result"]["namespace"]
        assert ns_ids[tag] == f"{lab.node}/ns:{spaces[tag].inode}", f"netns.create answered {done['result']}"
        lab.shows(f"namespace {name}", lambda name=name: lab.namespace_named(name))
        lab.logged(done, {ns_ids[tag]: {"added"}})
    a, b, c = spaces["a"], spaces["b"], spaces["c"]

    # veth.create: veth0 in a, veth1 in b; the defaults: MTU 1500, DOWN
    done = lab.do(
        "veth.create", {"a": {"namespace": a.name, "name": "veth0"}, "b": {"namespace": ns_ids["b"], "name": "veth1"}}
    )
    left, right = topo.link(a, "veth0"), topo.link(b, "veth1")
    assert left["link_index"] == right["ifindex"] and right["link_index"] == left["ifindex"], "the ends are not peers"
    assert (left["mtu"], right["mtu"]) == (1500, 1500), "a new pair's MTU is 1500 unless asked"
    assert "UP" not in left["flags"] and "UP" not in right["flags"], "a new pair is DOWN unless asked"
    v0, v1 = done["result"]["a"]["interface"], done["result"]["b"]["interface"]
    assert v0 == f"{lab.node}/if:{a.inode}:{left['ifindex']}", f"veth.create answered {done['result']}"
    lab.shows(
        "veth0 -- veth1 as a pair",
        lambda: (i := lab.interface(v0)) and i["name"] == "veth0" and i["peer"] == v1 and i["mtu"] == 1500,
    )
    lab.shows("veth1 in namespace b", lambda: (i := lab.interface(v1)) and i["namespace"] == ns_ids["b"])
    lab.logged(done, {v0: {"added"}, v1: {"added"}})

    # link.set: up; up with a new MTU; a new name
    done = lab.do("link.set", {"interface": v0, "up": True})
    assert "UP" in topo.link(a, "veth0")["flags"], "link.set up: veth0 is not UP"
    lab.shows("veth0 up", lambda: (i := lab.interface(v0)) and i["up"])
    lab.logged(done, {v0: {"changed"}})
    done = lab.do("link.set", {"interface": v1, "up": True, "mtu": 1400})
    right = topo.link(b, "veth1")
    assert "UP" in right["flags"] and right["mtu"] == 1400, f"link.set up+mtu: veth1 is {right['flags']} {right['mtu']}"
    lab.shows("veth1 up with MTU 1400", lambda: (i := lab.interface(v1)) and i["up"] and i["mtu"] == 1400)
    lab.logged(done, {v1: {"changed"}})
    done = lab.do("link.set", {"interface": v1, "name": "lab1"})
    assert topo.link(b, "lab1")["ifindex"] == right["ifindex"], "link.set name: lab1 is not the renamed veth1"
    lab.shows("veth1 renamed lab1", lambda: (i := lab.interface(v1)) and i["name"] == "lab1")
    lab.logged(done, {v1: {"changed"}})

    # address.add on both ends, then a ping across: 0% loss
    for ident, ns, name, cidr in ((v0, a, "veth0", "10.1.1.2/24"), (v1, b, "lab1", "10.1.1.3/24")):
        done = lab.do("address.add", {"interface": ident, "address": cidr})
        assert cidr in addresses(topo, ns, name), f"address.add: {name} has {addresses(topo, ns, name)}"
        lab.shows(
            f"{cidr} on {name}",
            lambda ident=ident, cidr=cidr: cidr in (lab.interface(ident) or {}).get("addresses", []),
        )
        lab.logged(done, {ident: {"changed"}})
    done = lab.do("ping", {"namespace": ns_ids["a"], "address": "10.1.1.3", "count": 3, "timeout": 10})
    result = done["result"]
    assert result["sent"] == 3 and result["received"] == 3 and result["loss"] == 0, f"ping across the pair: {result}"
    assert result["rtt_ms"] and result["rtt_ms"]["max"] >= result["rtt_ms"]["min"] > 0, f"ping's RTT: {result}"

    # address.remove
    done = lab.do("address.remove", {"interface": v0, "address": "10.1.1.2/24"})
    assert "10.1.1.2/24" not in addresses(topo, a, "veth0"), "address.remove: veth0 still has 10.1.1.2/24"
    lab.shows(
        "10.1.1.2/24 gone from veth0",
        lambda: "10.1.1.2/24" not in (lab.interface(v0) or {"addresses": ["?"]})["addresses"],
    )
    lab.logged(done, {v0: {"changed"}})

    # link.move: lab1 from b into c (the kernel drops its address and gives it a new ifindex)
    done = lab.do("link.move", {"interface": v1, "namespace": c.name})
    moved = topo.link(c, "lab1")
    assert not [x for x in topo.links(b) if x["ifname"] == "lab1"], "link.move: lab1 is still in b"
    assert topo.link(a, "veth0")["link_index"] == moved["ifindex"], "link.move: veth0's peer is not the moved lab1"
    assert done["result"]["dropped_addresses"] == ["10.1.1.3/24"], f"link.move answered {done['result']}"
    v1_old, v1 = v1, done["result"]["interface"]
    assert v1 == f"{lab.node}/if:{c.inode}:{moved['ifindex']}", f"link.move answered {done['result']}"
    lab.shows(
        "lab1 in namespace c, still veth0's peer",
        lambda: (
            (i := lab.interface(v1))
            and i["namespace"] == ns_ids["c"]
            and (lab.interface(v0) or {}).get("peer") == v1
            and v1_old not in lab.live.interfaces
        ),
    )
    # one "moved" record when the kernel's two events reach the server together; else the old
    # id's removal and the new id's addition, both the command's
    lab.logged(done, {v1: {"moved", "added"}})

    # bridge.create in c; bridge.attach lab1 to it; bridge.detach
    done = lab.do("bridge.create", {"namespace": ns_ids["c"], "name": "br0"})
    bridge = topo.link(c, "br0")
    assert bridge["linkinfo"]["info_kind"] == "bridge", f"bridge.create made a {bridge['linkinfo']['info_kind']}"
    br = done["result"]["interface"]
    lab.shows("bridge br0 in c", lambda: (i := lab.interface(br)) and i["kind"] == "bridge")
    lab.logged(done, {br: {"added"}})
    done = lab.do("bridge.attach", {"interface": v1, "bridge": br})
    assert topo.link(c, "lab1").get("master") == "br0", "bridge.attach: lab1 is not a port of br0"
    lab.shows("lab1 as a port of br0", lambda: (lab.interface(v1) or {}).get("master") == br)
    lab.logged(done, {v1: {"changed"}})
    done = lab.do("bridge.detach", {"interface": v1})
    assert "master" not in topo.link(c, "lab1"), "bridge.detach: lab1 is still a port"
    lab.shows("lab1 no longer a port", lambda: (i := lab.interface(v1)) and i.get("master") is None)
    lab.logged(done, {v1: {"changed"}})

    # link.set down, then link.delete by one end: the kernel deletes both
    done = lab.do("link.set", {"interface": v0, "up": False})
    assert "UP" not in topo.link(a, "veth0")["flags"], "link.set down: veth0 is still UP"
    lab.shows("veth0 down", lambda: (i := lab.interface(v0)) and not i["up"])
    lab.logged(done, {v0: {"changed"}})
    done = lab.do("link.delete", {"interface": v0})
    assert [x["ifname"] for x in topo.links(a)] == ["lo"] and [x["ifname"] for x in topo.links(c)] == ["lo", "br0"], (
        "link.delete: a veth end is left"
    )
    lab.shows("neither end of the pair", lambda: v0 not in lab.live.interfaces and v1 not in lab.live.interfaces)
    lab.logged(done, {v0: {"removed"}, v1: {"removed"}})

    # bridge.delete
    done = lab.do("bridge.delete", {"interface": br})
    assert [x["ifname"] for x in topo.links(c)] == ["lo"], "bridge.delete: br0 is still in c"
    lab.shows("no br0", lambda: br not in lab.live.interfaces)
    lab.logged(done, {br: {"removed"}})

    # netns.delete: all three
    for tag, ns in spaces.items():
        done = lab.do("netns.delete", {"name": ns.name})
        assert ns.name not in netns_names(), f"netns.delete: /run/netns/{ns.name} still exists"
        lab.shows(f"no namespace {ns.name}", lambda tag=tag: ns_ids[tag] not in lab.live.namespaces)
        lab.logged(
            done, {ns_ids[tag]: {"removed"}, f"{ns_ids[tag].replace('/ns:', '/if:')}:1": {"removed"}}
        )  # and its lo


@pytest.fixture
def embedded_lab(server: Server, topo: Topology) -> Iterator[Lab]:  # noqa: F811 - the fixture imported above
    user, token = operator(server.env)
    api = Api(server.url, token)
    nodes = wait_until(lambda: [n for n in api.nodes() if n["state"] == "online"], 60, "the local agent online")
    assert len(nodes) == 1, f"an embedded server has one node, this one {nodes}"
    port = server.url.rsplit(":", 1)[1]
    with LiveGraph(f"ws://127.0.0.1:{port}/ws/topology/", token) as live:
        yield Lab(api, live, nodes[0]["name"], user, topo)


@pytest.fixture
def distributed_lab(cluster: Cluster, topo: Topology) -> Lab:
    user, token = operator(cluster.env())
    return Lab(Api(cluster.api.base, token), cluster.live(), cluster.node, user, topo)


def test_it_wires_a_lab_with_every_verb_in_embedded_mode(embedded_lab: Lab) -> None:
    wire_a_lab(embedded_lab)
    assert embedded_lab.live.gaps == 0, "patches arrived with gaps"


def test_it_wires_a_lab_with_every_verb_in_distributed_mode(distributed_lab: Lab, cluster: Cluster) -> None:
    wire_a_lab(distributed_lab)
    assert distributed_lab.live.gaps == 0, "patches arrived with gaps"
    settle(cluster, ())  # the server's state equals a fresh scan; the change log replays to it
