"""Namespace ids are looked up (and assigned) many at a time: each namespace gets the id the kernel
gives it, and one file that is not a network namespace gets an error of its own without
spoiling the lookups batched with it."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from agent.netlink import MAX_BATCH, NetlinkError, RtnlSocket
from tests.agent.inventory_view import Scan
from tests.kernel_topology import NETNS_DIR, Topology

pytestmark = pytest.mark.kernel


def test_it_gives_every_namespace_of_a_large_batch_the_id_ip_reports(topo: Topology, scan: Scan) -> None:
    names = [topo.name(f"i{i:03d}") for i in range(MAX_BATCH + 6)]  # more than one batch
    topo.batch(f"netns add {name}" for name in names)
    spaces = topo.adopt_netns(names)
    # a bind mount of another namespace type among them (sorted into the middle of a batch)
    odd = os.path.join(NETNS_DIR, topo.name("i030u"))
    open(odd, "x").close()
    subprocess.run(["mount", "--bind", "/proc/self/ns/uts", odd], check=True)  # topo sweeps its prefix

    view = scan()

    ids = {entry["name"]: entry.get("id") for entry in topo.ipj(None, "netns", "list")}
    for ns in spaces:
        nsid = view.ns(ns).nsid
        assert nsid is not None and nsid == ids[ns.name], f"{ns.name}: nsmap {nsid}, ip {ids[ns.name]}"
    assert len({view.ns(ns).nsid for ns in spaces}) == len(spaces)
    assert any(odd in e and "not a network namespace" in e for e in view.inventory.errors), view.inventory.errors
    assert not any(os.path.basename(odd) in n.names for n in view.inventory.namespaces)


def test_it_answers_each_lookup_of_a_batch_on_its_own(topo: Topology) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    paths = [a.path, "/dev/null", b.path, "/proc/self/ns/uts"]
    fds = [os.open(path, os.O_RDONLY | os.O_CLOEXEC) for path in paths]
    try:
        with RtnlSocket() as rtnl:
            assigned = rtnl.assign_nsids(fds)
            looked_up = rtnl.get_nsids(fds)
    finally:
        for fd in fds:
            os.close(fd)

    ids = {entry["name"]: entry.get("id") for entry in topo.ipj(None, "netns", "list")}
    assert [assigned[0], assigned[2]] == [ids[a.name], ids[b.name]]
    assert looked_up[0::2] == assigned[0::2]
    for answer in (assigned[1], assigned[3], looked_up[1], looked_up[3]):
        assert isinstance(answer, NetlinkError) and answer.errno == errno.EINVAL, answer
