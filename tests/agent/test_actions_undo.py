"""A verb that fails half way deletes what it made, and only that (agent/actions.py).

A real failure after the kernel made the link: a command id too long for the kernel's alias
(IFALIASZ 256) makes the mark, the first step after creation, fail. The pair's undo is also
run on its own against real pairs, for the cases no clean failure reaches: an end's index
could not be read, so the pair is found by the names it was given.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.actions import ActionFailed, Executor, Kernel, Namespace, Policy, mark
from agent.verbs import NamespaceRef, parse_args
from tests.agent.actions_support import NODE, Lab, kernel_state, root_state
from tests.kernel_topology import Netns, Topology

pytestmark = pytest.mark.kernel

TOO_LONG = "x" * 300  # the mark would be longer than the kernel's IFALIASZ


def test_it_deletes_the_bridge_it_could_not_mark(topo: Topology, lab: Lab):
    a = topo.add_netns("a")
    before = kernel_state(topo, a), root_state(topo, lab)
    with pytest.raises(ActionFailed, match="could not mark bridge br0") as failed:
        lab.actions.run(parse_args("bridge.create", {"namespace": a.name, "name": "br0"}, NODE), TOO_LONG)
    assert failed.value.undone, str(failed.value)
    assert (kernel_state(topo, a), root_state(topo, lab)) == before, "the unmarked bridge was left behind"


def test_it_deletes_the_pair_it_could_not_mark(topo: Topology, lab: Lab):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    before = kernel_state(topo, a, b), root_state(topo, lab)
    args = {"a": {"namespace": a.name, "name": "v0"}, "b": {"namespace": b.name, "name": "v1"}}
    with pytest.raises(ActionFailed, match=r"refused a step of veth\.create") as failed:
        lab.actions.run(parse_args("veth.create", args, NODE), TOO_LONG)
    assert failed.value.undone, str(failed.value)
    assert (kernel_state(topo, a, b), root_state(topo, lab)) == before, "the unmarked pair was left behind"


@pytest.fixture
def executor() -> Iterator[Executor]:
    """The verbs' executor, used from the test's thread only (its sockets are not shared)."""
    kernel = Kernel(NODE)
    try:
        yield Executor(kernel, Policy())
    finally:
        kernel.close()


def undo(executor: Executor, a: Netns, b: Netns, command_id: str = "c1") -> bool:
    """undo_pair for the pair command ``command_id`` would have made as v0 (in a) - v1 (in b)."""
    spaces = [executor.k.namespace(NamespaceRef(name=ns.name), "") for ns in (a, b)]
    ends: list[tuple[Namespace, str]] = [(spaces[0], "v0"), (spaces[1], "v1")]
    return executor.undo_pair(ends[0], ends[1], command_id)


def test_it_deletes_an_unmarked_pair_by_the_names_it_gave(topo: Topology, executor: Executor):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)  # as the kernel made it, before the mark
    assert undo(executor, a, b), "an unmarked pair under the names given was not undone"
    assert (topo.link_names(a), topo.link_names(b)) == (["lo"], ["lo"]), "the pair is still there"


def test_it_deletes_a_pair_it_marked_even_when_the_peer_is_renamed(topo: Topology, executor: Executor):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "other", b)
    topo.alias(a, "v0", mark("c1"))
    assert undo(executor, a, b)
    assert (topo.link_names(a), topo.link_names(b)) == (["lo"], ["lo"]), "the marked pair is still there"


def test_it_reports_nothing_left_as_undone(topo: Topology, executor: Executor):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    assert undo(executor, a, b)


@pytest.mark.parametrize(
    "someone_elses",
    [
        "a pair marked by another command",
        "an unmarked pair whose peer has another name",
        "an unmarked end whose peer is not the other name's link",
        "a bridge under the first name",
        "an end given an alias by someone",
    ],
)
def test_it_leaves_what_is_not_its_own_and_says_the_undo_failed(topo: Topology, executor: Executor, someone_elses):
    a, b = topo.add_netns("a"), topo.add_netns("b")
    if someone_elses == "a pair marked by another command":
        topo.veth("v0", a, "v1", b)
        topo.alias(a, "v0", mark("c2"))
        topo.alias(b, "v1", mark("c2"))
    elif someone_elses == "an unmarked pair whose peer has another name":
        topo.veth("v0", a, "w1", b)
    elif someone_elses == "an unmarked end whose peer is not the other name's link":
        topo.veth("v0", a, "w1", b)
        topo.veth("v1", b, "w0", a)
    elif someone_elses == "a bridge under the first name":
        topo.bridge(a, "v0")
    else:
        topo.veth("v0", a, "v1", b)
        topo.alias(a, "v0", "theirs")
        topo.alias(b, "v1", "theirs")
    before = kernel_state(topo, a, b)
    assert not undo(executor, a, b), f"{someone_elses}: the undo claimed success"
    assert kernel_state(topo, a, b) == before, f"{someone_elses}: the undo deleted it"
