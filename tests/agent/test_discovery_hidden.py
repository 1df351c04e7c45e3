"""Namespaces that hide: held only by a bind mount outside the named folders, only by a process's
open fd, only by a socket. Each is found, labelled by what holds it, its veth's peer is exact,
and it is gone once released."""

from __future__ import annotations

import subprocess

import pytest

from agent.protocol import Namespace, interface_key, namespace_key
from tests.agent.inventory_view import Scan, View
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def assert_exact_pair(view: View, inode: int, ifindex: int, root_end: str, topo: Topology) -> Namespace:
    """The hidden namespace is listed, and its eth0 and the root end name each other exactly."""
    key = namespace_key(inode)
    assert key in view.namespaces, f"hidden namespace {key} not found; errors: {view.inventory.errors}"
    inside = view.interfaces.get(interface_key(inode, ifindex))
    root = view.iface(topo.root, root_end)
    assert inside is not None, "its eth0 is missing"
    assert (root.peer, root.peer_status) == (inside.key, "resolved"), root.peer_note
    assert (inside.peer, inside.peer_status) == (root.key, "resolved"), inside.peer_note
    return view.namespaces[key]


def held_with_veth(topo: Topology, suffix: str, how: str) -> tuple[subprocess.Popen[bytes], int, int, int, str]:
    """A namespace with eth0 paired to a root veth, kept only by a holder (Topology.hold): the
    holder, the fd holding it, the namespace's inode, eth0's ifindex and the root end's name."""
    ns = topo.add_netns(suffix)
    end = topo.name(suffix)
    topo.veth(end, topo.root, "eth0", ns)
    inode, ifindex = ns.inode, topo.link(ns, "eth0")["ifindex"]
    proc, fd = topo.hold(ns, how)
    topo.ip(None, "netns", "del", str(ns.name))  # the name goes; the holder keeps it alive
    return proc, fd, inode, ifindex, end


def released(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def test_it_finds_a_namespace_held_only_by_a_bind_mount_elsewhere(topo: Topology, scan: Scan) -> None:
    held = topo.hidden_netns()  # bind-mounted on <tmp>/net
    end = topo.name("bm")
    topo.veth(end, topo.root, "eth0", held)
    ifindex = topo.link(held, "eth0")["ifindex"]
    held = topo.release(held)  # only the mount holds it now
    inode = held.inode

    record = assert_exact_pair(scan(), inode, ifindex, end, topo)

    assert record.kind == "mount"
    assert record.holder == held.path and record.label == held.path

    subprocess.run(["umount", held.path], check=True)
    assert namespace_key(inode) not in scan().namespaces, "still listed after its mount was released"


@pytest.mark.parametrize(("how", "holder"), [("fd", "pid {pid} (python"), ("socket", "socket of pid {pid} (python")])
def test_it_finds_a_namespace_held_only_by_an_fd_or_a_socket(topo: Topology, scan: Scan, how: str, holder: str) -> None:
    proc, fd, inode, ifindex, end = held_with_veth(topo, how[:2], how)

    record = assert_exact_pair(scan(), inode, ifindex, end, topo)

    assert record.kind == how
    assert record.holder is not None and record.holder.startswith(holder.format(pid=proc.pid)), record.holder
    assert record.holder.endswith(f") fd {fd}") and record.label == record.holder

    released(proc)
    assert namespace_key(inode) not in scan().namespaces, f"still listed after its {how} was closed"


def private_mount(topo: Topology, suffix: str) -> tuple[subprocess.Popen[bytes], int, int, str, str]:
    """A namespace with eth0 paired to a root veth, mounted only in a private mount namespace
    (Topology.mount_privately): its process, the namespace's inode, eth0's ifindex, the root end
    and the mount point."""
    ns = topo.add_netns(suffix)
    end = topo.name(suffix)
    topo.veth(end, topo.root, "eth0", ns)
    inode, ifindex = ns.inode, topo.link(ns, "eth0")["ifindex"]
    proc, point = topo.mount_privately(ns)
    topo.ip(None, "netns", "del", str(ns.name))  # now only the private mount holds it
    return proc, inode, ifindex, end, point


def test_it_finds_a_namespace_mounted_only_in_another_mount_namespace(topo: Topology, scan: Scan) -> None:
    proc, inode, ifindex, end, point = private_mount(topo, "pm")

    record = assert_exact_pair(scan(), inode, ifindex, end, topo)

    assert record.kind == "mount"
    assert record.holder == f"{point} (mounts of pid {proc.pid})" and record.label == record.holder

    released(proc)  # its mount namespace, and the mount in it, go with the last process
    assert namespace_key(inode) not in scan().namespaces, "still listed after its mount namespace ended"
