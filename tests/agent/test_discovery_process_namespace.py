"""A namespace held only by a process (`unshare -n`): kind "process", labelled by pid and comm."""

from __future__ import annotations

import secrets

import pytest

from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_finds_an_unshare_namespace_by_its_process(topo: Topology, scan: Scan) -> None:
    proc = topo.process_netns()
    host = topo.name("p0")
    topo.veth(host, topo.root, "eth0", proc)

    view = scan()

    record = view.ns(proc)
    assert record.kind == "process"
    assert record.names == []
    assert (proc.pid, "sleep") in [(p.pid, p.comm) for p in record.pids]
    assert record.label == f"pid {record.pids[0].pid} ({record.pids[0].comm})"
    assert len(view.records_for(proc.inode)) == 1
    assert_pair(view, topo, proc, "eth0", topo.root, host)


def test_it_merges_a_process_namespace_that_is_also_named(topo: Topology, scan: Scan) -> None:
    proc = topo.process_netns()
    named = topo.attach(proc, "att")  # /run/netns/NAME bind-mounted from /proc/PID/ns/net
    assert named.inode == proc.inode
    topo.veth("eth0", proc, topo.name("p1"), topo.root)

    view = scan()

    records = view.records_for(proc.inode)
    assert len(records) == 1, records
    record = records[0]
    assert record.names == [named.name]
    assert (proc.pid, "sleep") in [(p.pid, p.comm) for p in record.pids]
    assert record.kind in ("named", "process")
    assert_pair(view, topo, named, "eth0", topo.root, topo.name("p1"))


def test_it_labels_a_container_namespace_by_its_container_id(topo: Topology, scan: Scan) -> None:
    container_id = secrets.token_hex(32)
    proc = topo.container_netns(container_id)  # its process sits in cgroup .../docker/<id>
    topo.veth("eth0", proc, topo.name("ct0"), topo.root)
    with open(f"/proc/{proc.pid}/cgroup") as cgroup:
        assert container_id in cgroup.read()

    view = scan()

    record = view.ns(proc)
    assert record.kind == "process"
    assert record.container_id == container_id
    assert record.label == container_id[:12]
    assert_pair(view, topo, proc, "eth0", topo.root, topo.name("ct0"))
