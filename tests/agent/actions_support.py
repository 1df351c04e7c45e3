"""Support for the lab-verb kernel tests (fixture ``lab`` in tests/agent/conftest.py): the agent's real
executor, and the kernel's truth around it.

``Lab`` runs verbs through the same path as the agent (agent/verbs.py parse, then
agent/actions.py on its helper thread); ``kernel_state`` is iproute2's own view (`ip -j`) of the
namespaces a test made, and ``root_state`` of the test's links in the root namespace, to show
that a refused or undone command changed nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

from agent.actions import Actions, Policy, mark
from agent.verbs import parse_args
from tests.kernel_topology import Netns, Topology

NODE = "h1"


class Lab:
    def __init__(self, topo: Topology, policy: Policy | None = None) -> None:
        self.topo = topo
        self.actions = Actions(NODE, policy)
        self.commands: list[str] = []  # ids of the commands run, whose marks (aliases) tell what they made

    def do(self, verb: str, args: dict[str, Any]) -> dict[str, Any]:
        command_id = str(uuid.uuid4())
        self.commands.append(command_id)
        return self.actions.run(parse_args(verb, args, NODE), command_id)

    def if_id(self, ns: Netns, dev: str) -> str:
        """The graph id of ``dev`` in ``ns`` (what the page sends)."""
        return f"{NODE}/if:{ns.inode}:{self.topo.link(ns, dev)['ifindex']}"

    def ns_id(self, ns: Netns) -> str:
        return f"{NODE}/ns:{ns.inode}"

    def netns(self, name: str) -> Netns:
        """A namespace the agent created by name, as a Netns the Topology can query, recorded so
        that the Topology deletes it (an unprefixed name is refused: no sweep would find it)."""
        return self.topo.adopt_netns([name])[0]

    def adopt_marked_root_links(self) -> None:
        """Record every root-namespace link carrying the mark of one of this Lab's commands, so
        that the Topology deletes it even when its name lacks the prefix (close() deletes only
        prefixed or recorded names)."""
        marks = {mark(command_id) for command_id in self.commands}
        for link in self.topo.ipj(self.topo.root, "link", "show"):
            if link.get("ifalias") in marks:
                self.topo.root_links.add(link["ifname"])


def agent_in(ns: Netns, verb: str, args: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """`python -m agent do VERB ARGS` run inside ``ns``, which is then that agent's root namespace:
    a host of the test's own, whose routes the test may set without going near the real host's."""
    argv = ["ip", "netns", "exec", str(ns.name), sys.executable, "-m", "agent", "do", verb, json.dumps(args)]
    return subprocess.run([*argv, "--node", NODE], capture_output=True, text=True, timeout=60, check=False)


def kernel_state(topo: Topology, *spaces: Netns) -> list[Any]:
    """Links and addresses of ``spaces`` as iproute2 reports them (the host's own only by name)."""
    state: list[Any] = []
    for ns in spaces:
        state.append([_without_timers(link) for link in topo.ipj(ns, "-d", "link", "show")])
        state.append(topo.ipj(ns, "addr", "show"))
    return state


def root_state(topo: Topology, lab: Lab) -> list[tuple[str, int, str | None]]:
    """The root namespace's links that are the test's: its prefix in the name, or the mark of one
    of its commands in the alias (name, ifindex, alias). Other runs add and remove links of their
    own there meanwhile, so only these can be compared before and after."""
    marks = {mark(command_id) for command_id in lab.commands}
    return sorted(
        (link["ifname"], link["ifindex"], link.get("ifalias"))
        for link in topo.ipj(topo.root, "link", "show")
        if link["ifname"].startswith(topo.prefix) or link.get("ifalias") in marks
    )


def _without_timers(link: dict[str, Any]) -> dict[str, Any]:
    """A link's details less the bridge and bridge-port timers, which run down on their own (an
    up bridge's gc_timer counts from 300 s): no change anyone made."""
    info = link.get("linkinfo", {})
    for part in ("info_data", "info_slave_data"):
        if isinstance(info.get(part), dict):
            info[part] = {key: value for key, value in info[part].items() if not key.endswith("_timer")}
    return link


def uplink_state(topo: Topology) -> list[Any]:
    """eth0 and lo of the host, which no test may change."""
    return [topo.ipj(topo.root, "-d", "link", "show", "dev", dev) for dev in ("eth0", "lo")] + [
        topo.ipj(topo.root, "addr", "show", "dev", dev) for dev in ("eth0", "lo")
    ]
