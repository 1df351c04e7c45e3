"""Namespaces appearing and disappearing: named (inotify on /run/netns), and process-held
(`unshare -n`, found by the cheap /proc pass), without waiting for a periodic reconcile."""

from __future__ import annotations

import time

import pytest

from agent.protocol import namespace_key
from tests.agent.watch_support import assert_converges, no_rescan, pump_until, watching

pytestmark = pytest.mark.kernel


def present(watcher, inode: int) -> bool:
    return inode in watcher.state.namespaces


def test_it_sees_named_namespaces_come_and_go_through_inotify(topo):
    with watching(proc_seconds=10**6) as (w, rec):  # no /proc pass: inotify alone
        t0 = time.monotonic()
        a = topo.add_netns("a")
        inode = a.inode
        assert pump_until(w, lambda: present(w, inode), timeout=3)
        seen_after = time.monotonic() - t0
        assert w.state.namespaces[inode].names == [a.name]
        assert w.state.namespaces[inode].kind == "named"
        assert seen_after < 2.0, f"a new /run/netns entry took {seen_after:.2f}s"
        topo.veth("v0", a, topo.name("h0"), topo.root)
        assert_converges(w, rec, topo, [a])

        topo.ip(None, "netns", "del", a.name)
        assert pump_until(w, lambda: not present(w, inode), timeout=5)
        assert namespace_key(inode) not in rec.namespaces
        assert not any(i["namespace"] == namespace_key(inode) for i in rec.interfaces.values())
        no_rescan(w)


def test_it_finds_process_namespaces_by_the_proc_pass_and_drops_them_when_the_process_dies(topo):
    with watching(proc_seconds=0.3) as (w, rec):
        p = topo.process_netns()
        inode = p.inode
        assert pump_until(w, lambda: present(w, inode), timeout=3)
        record = w.state.namespaces[inode]
        assert record.kind == "process" and record.pids[0].pid == p.pid and record.pids[0].comm == "sleep"
        topo.veth(topo.name("p0"), topo.root, "eth0", p)
        assert_converges(w, rec, topo, [p])

        named = topo.attach(p, "att")  # the same namespace gets a name: the record changes
        assert pump_until(w, lambda: w.state.namespaces[inode].names == [named.name], timeout=3)
        assert w.state.namespaces[inode].kind == "named"
        topo.ip(None, "netns", "del", named.name)
        assert pump_until(w, lambda: present(w, inode) and w.state.namespaces[inode].kind == "process", timeout=3)

        topo.release(p)  # the process dies; the namespace goes with it
        assert pump_until(w, lambda: not present(w, inode), timeout=5)
        assert namespace_key(inode) not in rec.namespaces
        no_rescan(w)


def test_it_publishes_each_namespace_before_its_interfaces(topo):
    with watching(proc_seconds=0.3) as (w, rec):
        a = topo.add_netns("a")
        topo.veth("v0", a, "v1", a)
        assert_converges(w, rec, topo, [a])  # the Recorder asserts the order on every upsert
