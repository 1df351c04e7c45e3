"""With the real runtimes (Debian's packages, a locally built busybox rootfs, nothing pulled), each
container's namespace is labelled with the name the runtime itself reports, and its veth's peer
is exact. Each test installs its runtime when absent and leaves the host as it found it
(containers, images, bridges, nft tables, forwarding; a dockerd it started is stopped)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from agent.discovery import Discoverer
from agent.owners import OwnerResolver
from agent.protocol import Namespace
from tests.agent.inventory_view import View
from tests.kernel_topology import new_prefix, require_root
from tests.runtimes import HostState, busybox_rootfs, ensure_packages, host_restored, podman_run

pytestmark = [pytest.mark.kernel, pytest.mark.runtimes]

DOCKER = "/usr/bin/docker"  # another client may sit earlier on PATH
DOCKER_SOCKET = "/run/docker.sock"


@pytest.fixture
def host() -> Iterator[HostState]:
    """The host's shared state before the test; put back after it, and checked."""
    require_root()
    with host_restored() as state:
        yield state


@pytest.fixture
def prefix() -> str:
    return new_prefix()


@pytest.fixture
def workdir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="nsmap-rt-") as folder:
        yield folder


def run(*argv: str, timeout: float = 120, **kw: object) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(argv)} failed: {done.stderr[-800:]}"
    return str(done.stdout)


def scan(owners: OwnerResolver | None = None) -> View:
    with Discoverer(owners=owners) as discoverer:
        view = View(discoverer.scan())
    view.check_consistency()
    return view


def namespace_of_pid(view: View, pid: int) -> Namespace:
    found = [n for n in view.inventory.namespaces if any(p.pid == pid for p in n.pids)]
    assert found, f"no namespace lists pid {pid}; errors: {view.inventory.errors}"
    return found[0]


def assert_peer_in_root(view: View, ns: Namespace, ifname: str) -> str:
    """``ifname`` in ``ns`` is paired exactly with a veth in root; returns that veth's name."""
    inside = next((i for i in view.inventory.interfaces if i.namespace == ns.key and i.name == ifname), None)
    assert inside is not None, f"{ifname} missing in {ns.label}"
    assert inside.peer_status == "resolved" and inside.peer in view.interfaces, inside.peer_note
    outside = view.interfaces[inside.peer]
    root = next(n for n in view.inventory.namespaces if n.kind == "root")
    assert outside.namespace == root.key and outside.peer == inside.key
    return outside.name


def wait_until(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.2)


def stop(proc: subprocess.Popen[Any], sig: signal.Signals | None = signal.SIGTERM, timeout: float = 60) -> bool:
    """Signal a runtime process (None: it was told otherwise) and wait for it; killed if it takes
    longer. True when it ended by itself."""
    if sig is not None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        return False


# -- Docker --------------------------------------------------------------------------------------


@contextlib.contextmanager
def dockerd(workdir: str) -> Iterator[None]:
    """A Docker engine: the one running, else /usr/sbin/dockerd started here (systemd is not PID 1)
    and stopped by its pid afterwards."""
    if subprocess.run([DOCKER, "info"], capture_output=True, timeout=30).returncode == 0:
        yield
        return
    with open(os.path.join(workdir, "dockerd.log"), "wb") as log:
        proc = subprocess.Popen(["/usr/sbin/dockerd"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: subprocess.run([DOCKER, "info"], capture_output=True).returncode == 0, "dockerd start")
        yield
    finally:
        stop(proc)


def test_it_labels_a_docker_container_with_the_name_docker_reports(host: HostState, prefix: str, workdir: str) -> None:
    ensure_packages("docker.io", "busybox-static", "iptables")
    rootfs = busybox_rootfs(os.path.join(workdir, "rootfs"))
    image, name = f"nsmap-busybox:{prefix}", f"{prefix}-web-1"
    with dockerd(workdir):
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        run(DOCKER, "import", "-", image, stdin=tar.stdout)
        tar.wait()
        try:
            cid = run(DOCKER, "run", "-d", "--name", name, image, "/bin/sh", "-c", "sleep 3600").strip()
            inspected = json.loads(run(DOCKER, "inspect", cid))[0]

            view = scan()
            record = namespace_of_pid(view, inspected["State"]["Pid"])
            assert record.label == inspected["Name"].lstrip("/") == name
            assert record.owner is not None and (record.owner.runtime, record.owner.id) == ("docker", inspected["Id"])
            assert record.owner.networks == tuple(sorted(inspected["NetworkSettings"]["Networks"]))
            assert record.names == [os.path.basename(inspected["NetworkSettings"]["SandboxKey"])]  # in the details
            assert_peer_in_root(view, record, "eth0")

            # without the state files, the API (allowed by the setting) names it just the same
            api_only = OwnerResolver(docker_root=os.path.join(workdir, "empty"), docker_api=DOCKER_SOCKET)
            assert namespace_of_pid(scan(api_only), inspected["State"]["Pid"]).label == name

            run(DOCKER, "rename", name, f"{name}-renamed")
            renamed = json.loads(run(DOCKER, "inspect", cid))[0]["Name"].lstrip("/")
            assert namespace_of_pid(scan(), inspected["State"]["Pid"]).label == renamed == f"{name}-renamed"
        finally:
            subprocess.run([DOCKER, "rm", "-f", name, f"{name}-renamed"], capture_output=True, timeout=120)
            subprocess.run([DOCKER, "rmi", "-f", image], capture_output=True, timeout=120)


# -- Podman --------------------------------------------------------------------------------------


def test_it_labels_a_podman_container_with_the_name_podman_reports(host: HostState, prefix: str, workdir: str) -> None:
    ensure_packages("podman", "netavark", "aardvark-dns", "runc", "iptables", "busybox-static")
    rootfs = busybox_rootfs(os.path.join(workdir, "rootfs"))
    name = f"{prefix}-web-1"
    try:
        podman_run(name, rootfs)
        inspected = json.loads(run("podman", "inspect", name))[0]

        view = scan()
        record = namespace_of_pid(view, inspected["State"]["Pid"])
        assert record.label == inspected["Name"] == name
        assert record.owner is not None and (record.owner.runtime, record.owner.id) == ("podman", inspected["Id"])
        assert record.names == [os.path.basename(inspected["NetworkSettings"]["SandboxKey"])]  # netns-UUID
        assert_peer_in_root(view, record, "eth0")

        run("podman", "rename", name, f"{name}-renamed")
        renamed = json.loads(run("podman", "inspect", inspected["Id"]))[0]["Name"]
        assert namespace_of_pid(scan(), inspected["State"]["Pid"]).label == renamed == f"{name}-renamed"
    finally:
        subprocess.run(
            ["podman", "rm", "-f", "-i", "-t", "0", name, f"{name}-renamed"], capture_output=True, timeout=120
        )


# -- systemd-nspawn ------------------------------------------------------------------------------


def test_it_labels_an_nspawn_machine_with_its_machine_name(host: HostState, prefix: str, workdir: str) -> None:
    ensure_packages("systemd-container", "busybox-static")
    rootfs = busybox_rootfs(os.path.join(workdir, "machine"), os_release=True)
    machine = f"{prefix}m"
    log_path = os.path.join(workdir, "nspawn.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "--as-pid2", "-D", rootfs, "-M", machine,
             "--network-veth", "/bin/sh", "-c", "sleep 3600"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        host_end = f"ve-{machine}"
        wait_until(lambda: os.path.exists(f"/sys/class/net/{host_end}"), f"{host_end} to appear")
        with open(log_path) as log:
            reported = log.read().split("Spawning container ", 1)[1].split(" on ", 1)[0]  # what nspawn calls it

        view = scan()
        root = next(n for n in view.inventory.namespaces if n.kind == "root")
        outside = next(i for i in view.inventory.interfaces if i.namespace == root.key and i.name == host_end)
        assert outside.peer_status == "resolved" and outside.peer in view.interfaces, outside.peer_note
        record = view.namespaces[view.interfaces[outside.peer].namespace]
        assert record.label == reported == machine
        assert record.owner is not None and record.owner.runtime == "systemd-nspawn"
        assert view.interfaces[outside.peer].name == "host0"
    finally:
        stop(proc)


# -- LXC -----------------------------------------------------------------------------------------


def test_it_labels_an_lxc_container_with_its_name(host: HostState, prefix: str, workdir: str) -> None:
    ensure_packages("lxc", "lxc-templates", "busybox-static")
    name = f"{prefix}-lxc"
    config = os.path.join(workdir, "lxc.conf")
    with open(config, "w") as handle:  # a veth left unattached on the host: no lxcbr0 needed
        handle.write("lxc.net.0.type = veth\nlxc.net.0.flags = up\nlxc.apparmor.profile = unconfined\n")
    try:
        run("lxc-create", "-n", name, "-t", "busybox", "-f", config)
        run("lxc-start", "-n", name, "-d")
        wait_until(lambda: run("lxc-info", "-n", name, "-s", "-H").strip() == "RUNNING", "lxc-start")
        pid = int(run("lxc-info", "-n", name, "-p", "-H").strip())
        assert name in run("lxc-ls", "-1").split()

        view = scan()
        record = namespace_of_pid(view, pid)
        assert record.label == name
        assert record.owner is not None and record.owner.runtime == "lxc"
        assert_peer_in_root(view, record, "eth0")
    finally:
        subprocess.run(["lxc-stop", "-n", name, "-k"], capture_output=True, timeout=120)
        subprocess.run(["lxc-destroy", "-n", name], capture_output=True, timeout=120)


# -- Mininet -------------------------------------------------------------------------------------

MININET = r"""
import sys
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

class Pair(Topo):
    def build(self, tag):
        switch = self.addSwitch("s" + tag)
        for host in ("a", "b"):
            self.addLink(self.addHost("h" + tag + host), switch)

setLogLevel("error")
net = Mininet(topo=Pair(sys.argv[1]), switch=LinuxBridge, controller=None)
net.start()
for host in net.hosts:
    print(host.name, host.pid, flush=True)
print("ready", flush=True)
sys.stdin.read()
net.stop()
"""


def test_it_labels_mininet_hosts_with_their_host_names(host: HostState, workdir: str) -> None:
    ensure_packages("mininet", "bridge-utils")
    tag = str(secrets.randbelow(9000) + 1000)  # a switch's name ends in digits (its dpid)
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-c", MININET, tag], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        hosts: dict[str, int] = {}
        for line in proc.stdout:
            if line.strip() == "ready":
                break
            hostname, pid = line.split()
            hosts[hostname] = int(pid)
        assert len(hosts) == 2, f"Mininet did not start: {hosts}"

        view = scan()
        for hostname, pid in hosts.items():
            record = namespace_of_pid(view, pid)
            assert record.label == hostname
            assert record.owner is not None and record.owner.runtime == "mininet"
            assert assert_peer_in_root(view, record, f"{hostname}-eth0").startswith(f"s{tag}-eth")
    finally:
        proc.stdin.close()  # the script stops the network
        if not stop(proc, None, timeout=120):
            clear_mininet(tag)


def clear_mininet(tag: str) -> None:
    """Remove what this test's network left when its script did not stop it: the shells of its
    own nodes (named "mininet:h<tag>a", "mininet:s<tag>"...; a host's namespace goes with its
    shell) and its own root links. Never `mn -c`: that clears every Mininet on the machine."""
    names = (f"mininet:h{tag}a", f"mininet:h{tag}b", f"mininet:s{tag}")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(name in argv for name in names):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    links = json.loads(run("ip", "-j", "link", "show") or "[]")
    ours = [
        link["ifname"]
        for link in links
        if link["ifname"].startswith((f"s{tag}-", f"h{tag}")) or link["ifname"] == f"s{tag}"
    ]
    for name in sorted(ours, key=lambda n: n == f"s{tag}"):  # the switch's ports first
        subprocess.run(["ip", "link", "del", "dev", name], capture_output=True, timeout=30)
