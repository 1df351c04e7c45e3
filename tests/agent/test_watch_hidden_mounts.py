"""The live agent notices a namespace bind-mounted anywhere (no named folder, no new process, no
periodic pass): the kernel flags the mount table, and one namespace pass follows, not a rescan."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest

from agent.protocol import namespace_key
from tests.agent.test_discovery_hidden import private_mount
from tests.agent.watch_support import NEVER, pump_until, watching
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def test_it_notices_a_bind_mount_outside_the_named_folders(topo: Topology) -> None:
    holder = topo.process_netns()
    inode = holder.inode
    folder = tempfile.mkdtemp(prefix=f"{topo.prefix}-mnt-")
    target = os.path.join(folder, "net")
    open(target, "x").close()
    try:
        with watching(proc_seconds=NEVER) as (w, rec):  # only the mount watch can notice
            assert w.state.namespaces[inode].kind == "process"
            reconciles = w.stats["reconciles"]

            subprocess.run(["mount", "--bind", holder.path, target], check=True)

            assert pump_until(w, lambda: w.state.namespaces[inode].kind == "mount", timeout=5), "mount not noticed"
            assert w.state.namespaces[inode].holder == target
            assert rec.namespaces[namespace_key(inode)]["holder"] == target  # published
            assert w.stats["reconciles"] == reconciles, "a full rescan instead of a namespace pass"

            subprocess.run(["umount", target], check=True)

            assert pump_until(w, lambda: w.state.namespaces[inode].kind == "process", timeout=5), "unmount missed"
    finally:
        subprocess.run(["umount", "-l", target], capture_output=True)
        os.unlink(target)
        os.rmdir(folder)


def test_it_drops_a_namespace_when_the_mount_namespace_holding_it_ends(topo: Topology) -> None:
    proc, inode, _ifindex, _end, point = private_mount(topo, "wm")
    with watching(proc_seconds=NEVER) as (w, rec):  # only the mount watch can notice
        assert w.state.namespaces[inode].holder == f"{point} (mounts of pid {proc.pid})"
        reconciles = w.stats["reconciles"]

        proc.kill()
        proc.wait(timeout=10)

        assert pump_until(w, lambda: inode not in w.state.namespaces, timeout=5), "still there after its holder ended"
        assert namespace_key(inode) not in rec.namespaces
        assert w.stats["reconciles"] == reconciles, "a full rescan instead of a namespace pass"
