"""The shared builder itself: unique names, exact teardown (also after a failure), and no
teardown from a forked child (pyroute2's netns helper inherits atexit hooks and `with` blocks)."""

from __future__ import annotations

import os

import pytest

from tests.kernel_topology import IFNAMSIZ, Topology, TopologyError, require_root

pytestmark = pytest.mark.kernel


def test_it_removes_everything_even_when_the_body_fails() -> None:
    require_root()
    with pytest.raises(RuntimeError, match="boom"), Topology() as topo:
        a = topo.add_netns("a")
        topo.veth(topo.name("h"), topo.root, "eth0", a)
        topo.bridge(topo.root, topo.name("br"))
        proc = topo.process_netns()
        topo.attach(proc, "att")
        topo.container_netns("c0ffee" * 10 + "c0ff")
        hidden = topo.hidden_netns()
        topo.veth("x", a, "eth0", hidden)
        topo.release(hidden)
        topo.symlink("lnk", a)
        topo.dangling_symlink("dng")
        topo.stale_file("stl")
        topo.batch([f"netns add {topo.prefix}bat", f"link add name {topo.name('bat')} type bridge"])
        assert len(topo.leftovers()) >= 12
        raise RuntimeError("boom")
    assert topo.leftovers() == []


def test_it_refuses_names_that_could_touch_the_host() -> None:
    require_root()
    with Topology() as topo:
        assert topo.prefix.startswith("nsm") and len(topo.prefix) == 8
        with pytest.raises(TopologyError):
            topo.bridge(topo.root, "eth0")  # not ours: root-namespace links carry the prefix
        with pytest.raises(TopologyError):
            topo.name("x" * (IFNAMSIZ - len(topo.prefix)))  # 16 chars: beyond IFNAMSIZ
        assert "eth0" in os.listdir("/sys/class/net")


def test_it_never_tears_down_from_a_forked_child() -> None:
    require_root()
    with Topology() as topo:
        a = topo.add_netns("a")
        pid = os.fork()
        if pid == 0:  # the child exits through the same `with` block and atexit
            try:
                topo.close()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert os.path.exists(a.path) and topo.link(a, "lo")["ifname"] == "lo"
    assert topo.leftovers() == []


def test_it_gives_every_topology_its_own_prefix() -> None:
    require_root()
    with Topology() as one, Topology() as two:
        assert one.prefix != two.prefix
