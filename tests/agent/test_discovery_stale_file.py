"""A plain file in /run/netns (a crash between `ip netns add`'s create and mount) is no namespace."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from agent import namespaces
from tests.agent.inventory_view import Scan, assert_pair
from tests.kernel_topology import Topology, require_root


@pytest.mark.kernel
def test_it_ignores_a_stale_plain_file(topo: Topology, scan: Scan) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    stale = os.path.basename(topo.stale_file("stl"))
    topo.veth("v0", a, "v1", b)

    started = time.monotonic()
    view = scan()
    took = time.monotonic() - started

    assert not any(stale in n.names for n in view.inventory.namespaces)
    assert_pair(view, topo, a, "v0", b, "v1")
    # the brief retry for a mount in progress must stay brief (a generous bound, not a benchmark)
    assert took < 10


def test_it_judges_a_long_plain_file_stale_without_waiting(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "crashed"
    stale.touch()
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))

    def no_wait(seconds: float) -> None:
        raise AssertionError(f"waited {seconds} s for a file that has been plain for an hour")

    monkeypatch.setattr(namespaces.time, "sleep", no_wait)
    assert namespaces.is_namespace_file(str(stale), namespaces.nsfs_dev()) is None


@pytest.mark.kernel
def test_it_finds_a_namespace_mounted_while_it_looks_again(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ip netns add` creates the file, then mounts: a file made moments ago is looked at again."""
    require_root()
    target = tmp_path / "being-added"
    target.touch()
    mounted: list[str] = []

    def mount_meanwhile(seconds: float) -> None:
        if not mounted:
            subprocess.run(["mount", "--bind", "/proc/self/ns/net", str(target)], check=True)
            mounted.append(str(target))

    monkeypatch.setattr(namespaces.time, "sleep", mount_meanwhile)
    try:
        st = namespaces.is_namespace_file(str(target), namespaces.nsfs_dev())
    finally:
        for path in mounted:
            subprocess.run(["umount", "-l", path], check=False)
    assert mounted, "a file made moments ago was not looked at again"
    assert st is not None and st.st_ino == os.stat("/proc/self/ns/net").st_ino
