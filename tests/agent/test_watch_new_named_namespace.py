"""A namespace made with `ip netns add` is published as named in its very first record.

`ip netns add` creates the file, moves itself into a new namespace, then bind-mounts that
namespace onto the file. In between, /proc shows a process (ip) alone in a namespace nobody
has named yet; published then, the namespace would appear as "pid N (ip)" and change into the
named one a moment later. These tests replay those steps slowly, in a directory of their own.
"""

from __future__ import annotations

import os

import pytest

from agent.protocol import namespace_key
from tests.agent.watch_support import pump, pump_until, sh, watching

pytestmark = pytest.mark.kernel


def upserts_of(recorder, inode: int) -> list[dict]:
    return [c["data"] for c in recorder.changes() if c["key"] == namespace_key(inode) and c["op"] == "upsert"]


def test_it_waits_for_the_mount_instead_of_publishing_the_process_namespace(topo, private_dir):
    base, mounts = private_dir
    with watching(proc_seconds=0.05, named_dirs=[(base, "named")]) as (w, rec):
        target = os.path.join(base, "new")
        open(target, "x").close()  # 1. the file
        holder = topo.process_netns()  # 2. a process alone in a new namespace
        pump(w, 0.4)  # many /proc passes see it
        assert holder.inode not in w.state.namespaces
        sh("mount", "--bind", holder.path, target)  # 3. the mount
        mounts.append(target)
        assert pump_until(w, lambda: holder.inode in w.state.namespaces, timeout=3)
        first = upserts_of(rec, holder.inode)[0]
        assert first["kind"] == "named" and first["names"] == ["new"]


def test_it_publishes_the_process_namespace_once_the_file_turns_out_stale(topo, private_dir):
    base, _mounts = private_dir
    with watching(proc_seconds=0.05, named_dirs=[(base, "named")]) as (w, rec):
        open(os.path.join(base, "never-mounted"), "x").close()
        holder = topo.process_netns()
        assert pump_until(w, lambda: holder.inode in w.state.namespaces, timeout=5)
        assert [r["kind"] for r in upserts_of(rec, holder.inode)] == ["process"]
