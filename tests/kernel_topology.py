"""Real namespaces and links for kernel tests and benchmarks, built with iproute2 and torn down exactly.

Every test (agent, webui, e2e, distributed) that needs a real topology uses this module, so that
nothing of a test ever touches what it did not make and nothing is left behind:

    from tests.kernel_topology import Topology, require_root

    def test_it_sees_a_pair():
        require_root()                      # pytest.skip naming root when not root
        with Topology() as topo:            # unique prefix, e.g. "nsm3fa9c"
            a, b = topo.add_netns("a"), topo.add_netns("b")
            topo.veth("v0", a, "v1", b)     # one pair, ends created directly in a and b
            topo.addr(a, "v0", "10.1.0.1/24")
            topo.addr(a, "v0", "fd00::1/64")    # IPv6 always gets `nodad`
            topo.up(a, "v0")
            truth = topo.link(a, "v0")      # `ip -n NAME -j -d link show dev v0`
        # everything made above is gone here, also when the body raised

The ``topo`` fixture (tests/conftest.py) gives a Topology closed after the test; in tests/agent
(tests/agent/conftest.py) it also fails the test if anything is left behind.

Rules the builder enforces, because the machine is shared with other engineers' runs:
- Names: the prefix is "nsm" + 5 random hex chars (8 chars), fresh per Topology; every
  /run/netns entry and every link it creates in the root namespace starts with it. Interface
  names are at most 15 chars (IFNAMSIZ - 1), so root-namespace suffixes have at most 7 chars.
  Links inside the builder's own namespaces may have any name (every container has an eth0).
- Teardown deletes what the builder recorded plus anything in the root namespace or /run/netns
  that carries its prefix (ip -batch created objects are covered by that sweep). It never lists
  or touches other namespaces, the host's eth0, lo, ifb*, nor another run's prefix.
- Teardown runs from ``close()`` (context manager exit, pytest finalizer) and, as a safety net,
  from atexit for every Topology still open; ``install_signal_teardown()`` turns SIGTERM/SIGHUP
  into SystemExit so that a killed benchmark cleans up too. Only the process that made a
  Topology tears it down: a fork (pyroute2's netns helper is one, stopped with SIGTERM) inherits
  the atexit hook, the signal handler and the stack of ``with`` blocks, and must not act on them.
- Namespace deletion is asynchronous in the kernel; close() does not wait for it. Links in the
  root namespace are deleted explicitly first, so ``leftovers()`` is empty right after close().

A namespace is a ``Netns`` handle: named ones live in /run/netns, process ones are
``unshare -n sleep 600`` children (killed on teardown), hidden ones are held only by a bind mount
in a private temp dir (the place discovery does not scan). ``Topology.root`` is the root
namespace (the one this process runs in).

API at a glance (``ns`` is a Netns; ``topo.root`` for the root namespace):
  namespaces   add_netns(suffix), process_netns(), container_netns(container_id) (or
               join_container_cgroup(proc_ns, container_id) later),
               attach(proc_ns, suffix), hidden_netns() + release(ns), adopt_netns(names),
               hold(ns, "fd" | "socket" | "inflight") or mount_privately(ns), then `ip netns del`
               (only that holder keeps it)
  /run/netns   symlink(suffix, target), dangling_symlink(suffix), stale_file(suffix)
  links        veth(a_name, a_ns, b_name, b_ns), bridge(ns, name), macvlan(ns, name, lower),
               vxlan(ns, name, vni, dev=None), tap(ns, name), delete(ns, name)
  settings     addr(ns, dev, cidr), up(ns, *devs), down(ns, *devs), master(ns, dev, bridge|None),
               mtu(ns, dev, n), alias(ns, dev, text), altname(ns, dev, name),
               rename(ns, old, new), move(dev, src, dst)
  truth        links(ns), link(ns, dev), addrs(ns) (iproute2 JSON), ip(ns, *args), ipj(ns, *args),
               link_names(ns), addresses(ns, dev, family=4, global_only=False) ("A/LEN" strings),
               Netns.inode (discovery's namespace identity)
  bulk         name(suffix), batch(lines, ns=None, force=False) (`ip -batch`)
  teardown     close() (also __exit__, atexit), leftovers(), close_all(), install_signal_teardown()
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

NETNS_DIR = "/run/netns"
PREFIX_BASE = "nsm"
IFNAMSIZ = 16  # include/uapi/linux/if.h: names are at most 15 chars plus NUL
COMMAND_TIMEOUT = 120.0
NEVER_TOUCH = ("eth0", "lo")  # host links a root-namespace operation must never name

_open_topologies: list[Topology] = []


class TopologyError(RuntimeError):
    """An iproute2 command failed, or a request would break the builder's rules."""


def is_root() -> bool:
    return os.geteuid() == 0


def require_root() -> None:
    """Skip the calling test loudly: real namespaces need root (CI is root)."""
    if not is_root():
        import pytest

        pytest.skip("kernel test: needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to build namespaces; CI runs as root")


@dataclass(frozen=True, slots=True)
class Netns:
    """One network namespace the builder can reach.

    ``path`` opens it (works as iproute2's ``netns`` argument since it contains a slash);
    ``name`` is its /run/netns name when it has one; ``pid`` is the process holding it, if any.
    """

    path: str
    name: str | None = None
    pid: int | None = None
    is_root: bool = False

    @property
    def inode(self) -> int:
        """The nsfs inode: discovery's identity, ``protocol.namespace_key(inode)``."""
        return os.stat(self.path).st_ino

    def __str__(self) -> str:
        return "root" if self.is_root else self.name or self.path


def _run(argv: Sequence[str], *, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    if check and proc.returncode != 0:
        raise TopologyError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def new_prefix() -> str:
    """The prefix "nsm" + 5 hex chars that no /run/netns entry or root link starts with yet."""
    for _ in range(100):
        prefix = PREFIX_BASE + secrets.token_hex(3)[:5]
        taken = _netns_entries(prefix) or any(n.startswith(prefix) for n in _root_link_names())
        if not taken:
            return prefix
    raise TopologyError("no free prefix after 100 tries")


def _netns_entries(prefix: str) -> list[str]:
    try:
        return sorted(e for e in os.listdir(NETNS_DIR) if e.startswith(prefix))
    except FileNotFoundError:
        return []


def _root_link_names() -> list[str]:
    # /sys/class/net of this process's mount namespace is the root namespace's (the builder never
    # enters another mount namespace); cheaper than `ip -j link` with thousands of links.
    try:
        return os.listdir("/sys/class/net")
    except OSError:
        out = _run(["ip", "-j", "link", "show"]).stdout
        return [link["ifname"] for link in json.loads(out or "[]")]


class Topology:
    """A recorded set of namespaces, links, processes and files; ``close()`` removes exactly them."""

    def __init__(self, prefix: str | None = None) -> None:
        if not is_root():
            raise TopologyError("building namespaces needs root")
        self.prefix = prefix or new_prefix()
        if len(self.prefix) > 8:
            raise TopologyError("prefix longer than 8 chars leaves too little room for link names")
        self.root = Netns(path=f"/proc/{os.getpid()}/ns/net", is_root=True)
        self.netns: list[str] = []  # /run/netns names made with `ip netns add` or `attach`
        self.root_links: set[str] = set()  # current names of links we made in the root namespace
        self.processes: list[subprocess.Popen[bytes]] = []
        self.files: list[str] = []  # symlinks and plain files we put in /run/netns
        self.mounts: list[str] = []  # bind mounts holding hidden namespaces
        self.tmpdirs: list[str] = []
        self.cgroups: list[str] = []  # cgroup directories made for container_netns(), deepest last
        self.closed = False
        self.owner = os.getpid()  # a forked child (pyroute2's netns helper) must never tear down
        _open_topologies.append(self)

    # -- context manager -------------------------------------------------------------------------

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- names and commands ----------------------------------------------------------------------

    def name(self, suffix: str) -> str:
        """prefix + suffix, checked against IFNAMSIZ (names for the root namespace and /run/netns)."""
        full = self.prefix + suffix
        if len(full) >= IFNAMSIZ:
            raise TopologyError(f"{full!r} is longer than {IFNAMSIZ - 1} chars")
        return full

    def _check_root_name(self, ns: Netns, ifname: str) -> None:
        if ns.is_root and not ifname.startswith(self.prefix):
            raise TopologyError(f"links in the root namespace must start with {self.prefix!r}: {ifname!r}")
        if len(ifname) >= IFNAMSIZ:
            raise TopologyError(f"interface name {ifname!r} is longer than {IFNAMSIZ - 1} chars")

    def ip_argv(self, ns: Netns | None, *args: str) -> list[str]:
        """The argv that runs `ip ARGS` inside ``ns`` (``ip -n`` for named, nsenter otherwise)."""
        if ns is None or ns.is_root:
            return ["ip", *args]
        if ns.name is not None and os.path.exists(os.path.join(NETNS_DIR, ns.name)):
            return ["ip", "-n", ns.name, *args]
        return ["nsenter", f"--net={ns.path}", "ip", *args]

    def ip(self, ns: Netns | None, *args: str, check: bool = True) -> str:
        """Run `ip ARGS` in ``ns`` (None or topo.root: the root namespace); stdout."""
        return _run(self.ip_argv(ns, *args), check=check).stdout

    def ipj(self, ns: Netns | None, *args: str) -> list[dict[str, Any]]:
        """`ip -j ARGS` in ``ns``, decoded."""
        out = self.ip(ns, "-j", *args)
        return json.loads(out) if out.strip() else []

    def batch(self, lines: Iterable[str], ns: Netns | None = None, force: bool = False) -> str:
        """`ip -batch -`: one process for many commands (fast builds); returns stderr.

        Root-namespace links it makes must carry the prefix (close() sweeps the prefix); namespaces
        it makes with `netns add` carry the prefix too, or pass them to ``adopt_netns``. With
        ``force`` ip keeps going after an error and the errors come back instead of raising.
        """
        argv = self.ip_argv(ns, *(["-force"] if force else []), "-batch", "-")
        return _run(argv, input="\n".join(lines) + "\n", check=not force).stderr

    # -- namespaces ------------------------------------------------------------------------------

    def add_netns(self, suffix: str) -> Netns:
        """`ip netns add PREFIX+SUFFIX` (a named namespace in /run/netns)."""
        name = self.prefix + suffix
        _run(["ip", "netns", "add", name])
        self.netns.append(name)
        return Netns(path=os.path.join(NETNS_DIR, name), name=name)

    def adopt_netns(self, names: Iterable[str]) -> list[Netns]:
        """Record namespaces made by ``batch`` (`netns add`) so that close() deletes them."""
        out = []
        for name in names:
            if not name.startswith(self.prefix):
                raise TopologyError(f"{name!r} does not carry the prefix {self.prefix!r}")
            self.netns.append(name)
            out.append(Netns(path=os.path.join(NETNS_DIR, name), name=name))
        return out

    def process_netns(self, argv: Sequence[str] = ("sleep", "600")) -> Netns:
        """A namespace held only by a process: `unshare -n ARGV` (killed on close()).

        unshare execs ARGV without forking, so ``pid`` is the process inside and its comm is
        ARGV[0]'s basename once this returns.
        """
        own = os.stat("/proc/self/ns/net").st_ino
        proc = subprocess.Popen(["unshare", "-n", "--", *argv], stdin=subprocess.DEVNULL)
        self.processes.append(proc)
        path = f"/proc/{proc.pid}/ns/net"
        want = os.path.basename(argv[0])[:15]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{proc.pid}/comm") as f:
                    comm = f.read().strip()
                if comm == want and os.stat(path).st_ino != own:
                    return Netns(path=path, pid=proc.pid)
            except OSError:
                pass
            if proc.poll() is not None:
                raise TopologyError(f"unshare -n {' '.join(argv)} exited with {proc.returncode}")
            time.sleep(0.005)
        raise TopologyError("unshare -n did not settle within 10 s")

    def container_netns(self, container_id: str) -> Netns:
        """A process namespace whose process sits in a cgroup ".../docker/<container_id>", as a
        Docker container's does (cgroupfs driver), so /proc/PID/cgroup carries the id.

        The cgroup is made under a directory named after the prefix in a hierarchy without
        controllers (cgroup2, else v1 name=systemd) and removed on close().
        """
        return self.join_container_cgroup(self.process_netns(), container_id)

    def join_container_cgroup(self, ns: Netns, container_id: str) -> Netns:
        """Move the process of ``ns`` into the cgroup ".../docker/<container_id>" (container_netns)."""
        return self.join_cgroup(ns, "docker", container_id)

    def join_cgroup(self, ns: Netns, *parts: str) -> Netns:
        """Move the process of ``ns`` into the cgroup PREFIX/PARTS... (made here, removed on close()),
        as a runtime's layout names it, e.g. ("kubepods", "besteffort", "pod<uid>", "<id>")."""
        root = _cgroup_root()
        if root is None:
            raise TopologyError("no cgroup2 or name=systemd hierarchy mounted")
        path = os.path.join(root, self.prefix)
        for part in ("", *parts):
            path = os.path.join(path, part) if part else path
            if not os.path.isdir(path):
                os.mkdir(path)
                self.cgroups.append(path)
        with open(os.path.join(path, "cgroup.procs"), "w") as procs:
            procs.write(str(ns.pid))
        return ns

    def attach(self, ns: Netns, suffix: str) -> Netns:
        """Also name a process namespace in /run/netns (`ip netns attach NAME PID`, a bind mount)."""
        if ns.pid is None:
            raise TopologyError("attach needs a process namespace")
        name = self.prefix + suffix
        _run(["ip", "netns", "attach", name, str(ns.pid)])
        self.netns.append(name)
        return Netns(path=os.path.join(NETNS_DIR, name), name=name, pid=ns.pid)

    def hidden_netns(self) -> Netns:
        """A namespace reachable only through a bind mount in a private temp dir.

        Made by `unshare -n sleep`, bind-mounted from /proc/PID/ns/net; call ``release(ns)`` after
        building its links to kill the process, so that only the mount keeps it alive.
        """
        proc_ns = self.process_netns()
        tmp = tempfile.mkdtemp(prefix=f"{self.prefix}-hidden-")
        self.tmpdirs.append(tmp)
        target = os.path.join(tmp, "net")
        open(target, "x").close()
        _run(["mount", "--bind", proc_ns.path, target])
        self.mounts.append(target)
        return Netns(path=target, pid=proc_ns.pid)

    def hold(self, ns: Netns, how: str) -> tuple[subprocess.Popen[bytes], int]:
        """Start a process that keeps ``ns`` alive by an open fd ("fd"), by a socket made inside
        it while the process itself stays in its own namespace ("socket"), or by that socket in
        flight in a unix socketpair with no fd of it left anywhere ("inflight"). Returns the
        process (killed on close()) and the fd number that holds the namespace (-1 in flight)."""
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, ns.path, how], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        self.processes.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line:
            raise TopologyError(f"the {how} holder of {ns} failed to start")
        return proc, int(line)

    def mount_privately(self, ns: Netns) -> tuple[subprocess.Popen[bytes], str]:
        """Bind-mount ``ns`` on a file in a temp dir inside a private mount namespace (`unshare -m`)
        whose shell then sleeps (killed on close()): (that process, the mount point)."""
        folder = tempfile.mkdtemp(prefix=f"{self.prefix}-private-")
        self.tmpdirs.append(folder)
        point = os.path.join(folder, "net")
        open(point, "x").close()
        script = f"mount --bind {ns.path} {point} && echo ready && exec sleep 600"
        proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self.processes.append(proc)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise TopologyError(f"the private mount of {ns} failed")
        return proc, point

    def release(self, ns: Netns) -> Netns:
        """Kill the process holding ``ns``; the returned handle has no pid (use its path)."""
        for proc in self.processes:
            if proc.pid == ns.pid:
                proc.kill()
                proc.wait(timeout=10)
        return Netns(path=ns.path, name=ns.name)

    def symlink(self, suffix: str, target: Netns) -> str:
        """/run/netns/PREFIX+SUFFIX -> target's path (ip netns list shows it like a namespace)."""
        return self._netns_file(suffix, target=target.path)

    def dangling_symlink(self, suffix: str) -> str:
        """/run/netns/PREFIX+SUFFIX -> a path that does not exist."""
        return self._netns_file(suffix, target=f"/nonexistent/{self.prefix}/{suffix}")

    def stale_file(self, suffix: str) -> str:
        """A plain empty file in /run/netns, what a crash between create and mount leaves."""
        return self._netns_file(suffix, target=None)

    def _netns_file(self, suffix: str, target: str | None) -> str:
        os.makedirs(NETNS_DIR, exist_ok=True)
        path = os.path.join(NETNS_DIR, self.prefix + suffix)
        if target is None:
            open(path, "x").close()
        else:
            os.symlink(target, path)
        self.files.append(path)
        return path

    # -- links -----------------------------------------------------------------------------------

    def _made(self, ns: Netns, ifname: str) -> None:
        if ns.is_root:
            self.root_links.add(ifname)

    def veth(self, a_name: str, a_ns: Netns, b_name: str, b_ns: Netns) -> None:
        """One veth pair, each end created directly in its namespace (one `ip link add`)."""
        self._check_root_name(a_ns, a_name)
        self._check_root_name(b_ns, b_name)
        argv = ["link", "add", "name", a_name]  # "name": a bare "l" would parse as "link"
        if not a_ns.is_root:
            argv += ["netns", a_ns.path]
        argv += ["type", "veth", "peer", "name", b_name]
        if not b_ns.is_root:
            argv += ["netns", b_ns.path]
        try:
            self.ip(None, *argv)
        finally:  # record even on failure: a half-made root end is still ours to delete
            self._made(a_ns, a_name)
            self._made(b_ns, b_name)

    def bridge(self, ns: Netns, name: str) -> None:
        """A Linux bridge named ``name`` in ``ns``."""
        self._add(ns, name, "type", "bridge")

    def macvlan(self, ns: Netns, name: str, lower: str, mode: str = "bridge") -> None:
        """A macvlan on ``lower`` (which must be in ``ns``)."""
        self._add(ns, name, "link", lower, "type", "macvlan", "mode", mode)

    def vxlan(self, ns: Netns, name: str, vni: int, dev: str | None = None, dstport: int = 4789) -> None:
        """A vxlan device (no remote; enough for discovery)."""
        extra = ["dev", dev] if dev else []
        self._add(ns, name, "type", "vxlan", "id", str(vni), "dstport", str(dstport), *extra)

    def tap(self, ns: Netns, name: str) -> None:
        """A persistent tap device (`ip tuntap add mode tap`); kind "tun" in IFLA_INFO_KIND."""
        self._check_root_name(ns, name)
        self.ip(ns, "tuntap", "add", "dev", name, "mode", "tap")
        self._made(ns, name)

    def _add(self, ns: Netns, name: str, *spec: str) -> None:
        self._check_root_name(ns, name)
        self.ip(ns, "link", "add", "name", name, *spec)
        self._made(ns, name)

    def delete(self, ns: Netns, name: str) -> None:
        self.ip(ns, "link", "del", "dev", name)
        if ns.is_root:
            self.root_links.discard(name)

    # -- settings --------------------------------------------------------------------------------

    def addr(self, ns: Netns, dev: str, cidr: str) -> None:
        """Add an address; IPv6 gets `nodad` so it is usable (and dumped stable) at once."""
        extra = ["nodad"] if ":" in cidr else []
        self.ip(ns, "addr", "add", cidr, "dev", dev, *extra)

    def up(self, ns: Netns, *devs: str) -> None:
        for dev in devs:
            self.ip(ns, "link", "set", "dev", dev, "up")

    def down(self, ns: Netns, *devs: str) -> None:
        for dev in devs:
            self.ip(ns, "link", "set", "dev", dev, "down")

    def master(self, ns: Netns, dev: str, bridge: str | None) -> None:
        """Enslave ``dev`` to ``bridge`` (None: `nomaster`)."""
        self.ip(ns, "link", "set", "dev", dev, *(["master", bridge] if bridge else ["nomaster"]))

    def mtu(self, ns: Netns, dev: str, mtu: int) -> None:
        self.ip(ns, "link", "set", "dev", dev, "mtu", str(mtu))

    def alias(self, ns: Netns, dev: str, text: str) -> None:
        self.ip(ns, "link", "set", "dev", dev, "alias", text)

    def altname(self, ns: Netns, dev: str, altname: str) -> None:
        """Add an alternative name (up to 127 chars, ALTIFNAMSIZ - 1); prefixed in the root namespace."""
        if ns.is_root and not altname.startswith(self.prefix):
            raise TopologyError(f"altnames in the root namespace must start with {self.prefix!r}: {altname!r}")
        self.ip(ns, "link", "property", "add", "dev", dev, "altname", altname)

    def rename(self, ns: Netns, old: str, new: str) -> None:
        """Rename (the kernel refuses while up: down, rename, up again if it was up)."""
        self._check_root_name(ns, new)
        was_up = "UP" in self.link(ns, old).get("flags", [])
        if was_up:
            self.down(ns, old)
        self.ip(ns, "link", "set", "dev", old, "name", new)
        if ns.is_root:
            self.root_links.discard(old)
            self.root_links.add(new)
        if was_up:
            self.up(ns, new)

    def move(self, dev: str, src: Netns, dst: Netns) -> None:
        """`ip link set dev DEV netns DST` run in ``src`` (the kernel downs it and drops addresses)."""
        self._check_root_name(dst, dev)
        self.ip(src, "link", "set", "dev", dev, "netns", dst.path)
        if src.is_root:
            self.root_links.discard(dev)
        self._made(dst, dev)

    # -- truth (iproute2's own JSON) -------------------------------------------------------------

    def links(self, ns: Netns) -> list[dict[str, Any]]:
        """`ip -j -d link show` in ``ns``."""
        return self.ipj(ns, "-d", "link", "show")

    def link(self, ns: Netns, dev: str) -> dict[str, Any]:
        """`ip -j -d link show dev DEV` in ``ns``."""
        found = self.ipj(ns, "-d", "link", "show", "dev", dev)
        if len(found) != 1:
            raise TopologyError(f"{dev} in {ns}: {found!r}")
        return found[0]

    def addrs(self, ns: Netns) -> list[dict[str, Any]]:
        """`ip -j addr show` in ``ns``."""
        return self.ipj(ns, "addr", "show")

    def link_names(self, ns: Netns) -> list[str]:
        """The names of the links in ``ns``, sorted."""
        return sorted(link["ifname"] for link in self.links(ns))

    def addresses(self, ns: Netns, dev: str, family: int | None = 4, global_only: bool = False) -> list[str]:
        """``dev``'s addresses in ``ns`` as "ADDRESS/PREFIXLEN", in the kernel's order: IPv4 by
        default (IPv6 link-local ones come and go with the link's state), 6 or None for both;
        ``global_only`` leaves out link- and host-scope ones."""
        flag = [] if family is None else [f"-{family}"]
        return [
            f"{a['local']}/{a['prefixlen']}"
            for entry in self.ipj(ns, *flag, "addr", "show", "dev", dev)
            for a in entry.get("addr_info", [])
            if not global_only or a.get("scope") == "global"
        ]

    # -- teardown --------------------------------------------------------------------------------

    def leftovers(self) -> list[str]:
        """What of ours still exists (after close(): nothing, or it is a bug worth failing on)."""
        left = [f"{NETNS_DIR}/{e}" for e in _netns_entries(self.prefix)]
        left += [f"link {n}" for n in _root_link_names() if n.startswith(self.prefix)]
        left += [f"pid {p.pid}" for p in self.processes if p.poll() is None]
        left += [f"mount {m}" for m in self.mounts if os.path.ismount(m)]
        left += [f"dir {d}" for d in self.tmpdirs if os.path.exists(d)]
        left += [f"cgroup {c}" for c in self.cgroups if os.path.exists(c)]
        return left

    def close(self) -> None:
        """Delete exactly what this Topology made. Idempotent; never raises for cleanup errors.

        Order: root links (veth pairs vanish with them, synchronously), /run/netns files, named
        namespaces, processes, bind mounts. Namespace teardown then finishes asynchronously.
        """
        if self.closed or os.getpid() != self.owner:
            return
        self.closed = True
        if self in _open_topologies:
            _open_topologies.remove(self)
        existing = set(_root_link_names())
        root_links = {n for n in self.root_links if n in existing}
        root_links |= {n for n in existing if n.startswith(self.prefix)}
        root_links -= set(NEVER_TOUCH)
        if root_links:
            # bridges last: their ports first keeps the bridge's own teardown trivial
            ordered = sorted(root_links, key=lambda n: n in existing and _is_bridge(n))
            _run(["ip", "-force", "-batch", "-"], input="".join(f"link del dev {n}\n" for n in ordered), check=False)
        for path in self.files:
            _unlink(path)
        names = set(self.netns) | set(_netns_entries(self.prefix))
        real: list[str] = []
        for name in sorted(names):
            path = os.path.join(NETNS_DIR, name)
            if os.path.islink(path) or not os.path.lexists(path):
                _unlink(path)  # never `ip netns del` a symlink: umount2 would follow it
            elif os.path.ismount(path):
                real.append(name)
            else:
                _unlink(path)  # a plain file: a half-made namespace
        if real:
            _run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in real), check=False)
            for name in real:  # `ip netns del` of a busy mount leaves the file; umount lazily
                path = os.path.join(NETNS_DIR, name)
                if os.path.lexists(path):
                    _run(["umount", "-l", path], check=False)
                    _unlink(path)
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        for cgroup in reversed(self.cgroups):  # empty now that their processes are gone
            for _ in range(50):
                try:
                    os.rmdir(cgroup)
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY for a moment while the killed process is released
                    time.sleep(0.02)
        for mount in self.mounts:
            _run(["umount", "-l", mount], check=False)
        for tmp in self.tmpdirs:
            for entry in os.listdir(tmp) if os.path.isdir(tmp) else []:
                path = os.path.join(tmp, entry)
                if not os.path.ismount(path):
                    _unlink(path)
            with contextlib.suppress(OSError):
                os.rmdir(tmp)


# Keeps the namespace at argv[1] only through what argv[2] names and prints that fd (Topology.hold)
HOLDER = r"""
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
target, how = sys.argv[1], sys.argv[2]
ns = os.open(target, os.O_RDONLY)
if how == "fd":
    print(ns, flush=True)
else:
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    assert libc.setns(ns, 0x40000000) == 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    assert libc.setns(home, 0x40000000) == 0
    os.close(ns)
    os.close(home)
    if how == "inflight":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        socket.send_fds(a, [b"x"], [sock.fileno()])
        sock.close()
        print(-1, flush=True)
    else:
        print(sock.fileno(), flush=True)
time.sleep(600)
"""


def _cgroup_root() -> str | None:
    """A mounted cgroup hierarchy where a test may make directories: cgroup2, else name=systemd."""
    v1 = None
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
            if fields[2] == "cgroup" and "name=systemd" in fields[3].split(","):
                v1 = fields[1]
    return v1


def _is_bridge(name: str) -> bool:
    return os.path.isdir(f"/sys/class/net/{name}/bridge")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # EBUSY: still a mount point
        if stat.S_ISREG(os.lstat(path).st_mode):
            _run(["umount", "-l", path], check=False)
            try:
                os.unlink(path)
            except OSError:
                print(f"kernel_topology: could not remove {path}: {exc}")


def close_all() -> None:
    """Tear down every Topology still open (atexit; also callable from a signal handler)."""
    for topo in list(_open_topologies):
        try:
            topo.close()
        except Exception as exc:  # a safety net must not raise at exit
            print(f"kernel_topology: teardown of {topo.prefix} failed: {exc!r}")


def install_signal_teardown() -> None:
    """Make SIGTERM and SIGHUP raise SystemExit, so ``with Topology()`` blocks and atexit run."""

    owner = os.getpid()

    def _exit(signum: int, _frame: object) -> None:
        if os.getpid() != owner:  # a forked helper (pyroute2 netns) being stopped: just die
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit)


atexit.register(close_all)
