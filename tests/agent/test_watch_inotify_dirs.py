"""The namespace directories are watched even before they exist, and across being mounted over:
the first `ip netns add` bind-mounts /run/netns onto itself, and a tmpfs may land on it."""

from __future__ import annotations

import os
import time

import pytest

from tests.agent.watch_support import bind_namespace, pump_until, sh, watching

pytestmark = pytest.mark.kernel


def test_it_follows_a_directory_created_later_and_mounted_over(topo, private_dir):
    base, mounts = private_dir
    netns_dir = os.path.join(base, "deep", "netns")
    holder = topo.process_netns()
    with watching(proc_seconds=0.5, named_dirs=[(netns_dir, "named")]) as (w, _rec):
        inode = holder.inode
        assert w.state.namespaces[inode].kind == "process"

        os.makedirs(netns_dir)  # the directory appears after the agent started
        sh("mount", "--bind", netns_dir, netns_dir)  # what the first `ip netns add` does
        mounts.append(netns_dir)
        bind_namespace(holder.path, netns_dir, "first", mounts)
        assert pump_until(w, lambda: w.state.namespaces[inode].names == ["first"], timeout=3)
        assert w.state.namespaces[inode].kind == "named"

        sh("mount", "-t", "tmpfs", "tmpfs", netns_dir)  # another inode now answers the path
        mounts.append(netns_dir)
        assert pump_until(w, lambda: w.state.namespaces[inode].names == [], timeout=3)
        bind_namespace(holder.path, netns_dir, "second", mounts)
        assert pump_until(w, lambda: w.state.namespaces[inode].names == ["second"], timeout=3)


def test_it_finds_a_namespace_mounted_a_while_after_its_file_appeared(topo, private_dir):
    base, mounts = private_dir
    netns_dir = os.path.join(base, "netns")
    os.makedirs(netns_dir)
    holder = topo.process_netns()
    with watching(proc_seconds=10**6, named_dirs=[(netns_dir, "named")]) as (w, _rec):  # inotify alone
        target = os.path.join(netns_dir, "late")
        open(target, "x").close()  # what `ip netns add` does first
        deadline = time.monotonic() + 0.15
        while time.monotonic() < deadline:
            w.poll_once(0.01)
        sh("mount", "--bind", holder.path, target)  # ... and then, a little later
        mounts.append(target)
        assert pump_until(w, lambda: w.state.namespaces[holder.inode].names == ["late"], timeout=3)
        assert w.stats["ns_passes"] < 10


def test_it_ignores_unrelated_files_next_to_a_missing_directory(topo, private_dir):
    base, _mounts = private_dir
    with watching(proc_seconds=10**6, named_dirs=[(os.path.join(base, "docker", "netns"), "docker")]) as (w, _rec):
        passes, events = w.stats["ns_passes"], w.stats["events"]
        for n in range(20):  # like pid files coming and going in /run
            open(os.path.join(base, f"unrelated{n}"), "x").close()
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            w.poll_once(0.02)
        # a namespace made meanwhile by another run on this shared machine triggers a pass of its
        # own (a netlink event from an unknown namespace): then this test cannot tell
        if w.stats["events"] == events:
            assert w.stats["ns_passes"] == passes
        os.makedirs(os.path.join(base, "docker", "netns"))
        assert pump_until(w, lambda: w.dirs.watches[0].on_target, timeout=3)
