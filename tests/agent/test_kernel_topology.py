"""The shared builder itself: unique names, exact teardown (also after a failure), and no
teardown from a forked child (pyroute2's netns helper inherits atexit hooks and `with` blocks); its
look-ups of names and addresses."""

from __future__ import annotations

import os
import time

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


def test_it_reads_names_and_addresses_as_the_kernel_has_them() -> None:
    require_root()
    with Topology() as topo:
        a, b = topo.add_netns("a"), topo.add_netns("b")
        topo.veth("v1", a, "v0", b)
        topo.addr(a, "v1", "10.9.0.1/24")
        topo.addr(a, "v1", "fd00:9::1/64")
        topo.addr(a, "lo", "127.0.0.2/8")
        topo.up(a, "v1", "lo")
        topo.up(b, "v0")  # a carrier: the kernel gives v1 its fe80:: link-local address
        assert topo.link_names(a) == ["lo", "v1"], "names are sorted"
        assert topo.addresses(a, "v1") == ["10.9.0.1/24"], "IPv4 only by default"
        assert sorted(topo.addresses(a, "lo")) == ["127.0.0.1/8", "127.0.0.2/8"]
        six = topo.addresses(a, "v1", family=6)
        for _ in range(500):  # addrconf adds the link-local address once the carrier is seen
            if any(x.startswith("fe80:") for x in six):
                break
            time.sleep(0.01)
            six = topo.addresses(a, "v1", family=6)
        assert "fd00:9::1/64" in six and any(x.startswith("fe80:") for x in six), f"v1's IPv6 addresses: {six}"
        assert topo.addresses(a, "v1", family=6, global_only=True) == ["fd00:9::1/64"], "no fe80:: link-local"
        assert topo.addresses(a, "v1", family=None, global_only=True) == ["10.9.0.1/24", "fd00:9::1/64"]
        assert topo.addresses(a, "lo", global_only=True) == [], "lo's addresses are host-scope"
        assert topo.addresses(b, "v0") == []
