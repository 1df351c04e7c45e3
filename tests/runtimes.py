"""Real container runtimes for tests: Debian's packages installed on demand (like the browser
tests' chromium), a busybox root filesystem built locally (nothing can be pulled), and the host's
shared state (forwarding sysctls, nft tables, the runtimes' bridges) captured before and put
back after, so that a test leaves the host as it found it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

BUSYBOX = "/bin/busybox"
FORWARDING = ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding")
RUNTIME_BRIDGES = ("docker0", "podman0", "cni-podman0", "lxcbr0")  # made by the runtimes, never by tests
_updated = False


def ensure_packages(*packages: str) -> None:
    """Install the Debian packages that are missing (one `apt-get update` per session); skip the
    test, naming the packages, when that fails."""
    global _updated
    missing = [p for p in packages if not _installed(p)]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        pytest.skip(f"runtimes: {' '.join(missing)} missing and no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _updated:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        _updated = True
    done = subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env, capture_output=True, timeout=1800)
    if done.returncode != 0:
        pytest.skip(f"runtimes: apt-get install {' '.join(missing)} failed: {done.stderr.decode()[-400:]}")


def _installed(package: str) -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return out.returncode == 0 and out.stdout == "install ok installed"  # not "... not-installed"


def busybox_rootfs(path: str, os_release: bool = False) -> str:
    """A root filesystem of busybox-static alone: bin/busybox with sh and sleep links, empty etc
    proc sys dev tmp (and usr/lib/os-release, which systemd-nspawn wants)."""
    for folder in ("bin", "etc", "proc", "sys", "dev", "tmp", "usr/lib"):
        os.makedirs(os.path.join(path, folder), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    for tool in ("sh", "sleep"):
        os.symlink("busybox", os.path.join(path, "bin", tool))
    if os_release:
        with open(os.path.join(path, "usr/lib/os-release"), "w") as handle:
            handle.write('ID=busybox\nNAME="busybox rootfs for nsmap tests"\n')
    return path


def podman_run(name: str, rootfs: str) -> str:
    """`podman run -d` of a busybox ``rootfs`` (sleeping) as ``name`` on Podman's bridge; its id.
    One argv for every Podman test, so that they all start their containers the same way."""
    argv = [
        "podman", "run", "-d", "--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096",
        "--name", name, "--network", "bridge", "--rootfs", rootfs, "/bin/sh", "-c", "sleep 3600",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"podman run {name} failed: {done.stderr[-800:]}"
    return done.stdout.strip()


@contextlib.contextmanager
def host_restored() -> Iterator[HostState]:
    """The host's shared state captured before the block, put back after it (also when it
    raised), and checked: the block fails when something could not be put back."""
    state = HostState.capture()
    try:
        yield state
    finally:
        state.restore()
    left = state.differences()
    assert not left, f"the host was not left as found: {left}"


@dataclass
class HostState:
    """What runtimes change on the host beyond their containers: forwarding, nft tables and their
    default bridges."""

    forwarding: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # "ip nat" -> `nft list table ip nat`
    bridges: set[str] = field(default_factory=set)

    @classmethod
    def capture(cls) -> HostState:
        state = cls()
        for path in FORWARDING:
            with open(path) as handle:
                state.forwarding[path] = handle.read().strip()
        for table in _tables():
            state.tables[table] = _nft("list", "table", *table.split())
        state.bridges = {b for b in RUNTIME_BRIDGES if os.path.exists(f"/sys/class/net/{b}")}
        return state

    def restore(self) -> None:
        """Put back what differs: new runtime bridges deleted, new nft tables deleted, changed
        ones reloaded as they were, forwarding reset."""
        for bridge in RUNTIME_BRIDGES:
            if bridge not in self.bridges and os.path.exists(f"/sys/class/net/{bridge}"):
                subprocess.run(["ip", "link", "del", bridge], capture_output=True)
        for table in _tables():
            if table not in self.tables:
                _nft("delete", "table", *table.split())
            elif _nft("list", "table", *table.split()) != self.tables[table]:
                _nft("delete", "table", *table.split())
                subprocess.run(["nft", "-f", "-"], input=self.tables[table], text=True, capture_output=True)
        for table, text in self.tables.items():
            if table not in _tables():
                subprocess.run(["nft", "-f", "-"], input=text, text=True, capture_output=True)
        for path, value in self.forwarding.items():
            with open(path, "w") as handle:
                handle.write(value)

    def differences(self) -> list[str]:
        now = HostState.capture()
        out = [f"{p} is {now.forwarding[p]}, was {v}" for p, v in self.forwarding.items() if now.forwarding[p] != v]
        out += [
            f"nft table {t} differs"
            for t in self.tables.keys() | now.tables.keys()
            if self.tables.get(t) != now.tables.get(t)
        ]
        out += [f"bridge {b} left behind" for b in now.bridges - self.bridges]
        return out


def _tables() -> list[str]:
    listing = _nft("list", "tables")
    return [line[len("table ") :].strip() for line in listing.splitlines() if line.startswith("table ")]


def _nft(*args: str) -> str:
    return subprocess.run(["nft", *args], capture_output=True, text=True).stdout
