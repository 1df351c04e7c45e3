"""`python -m agent scan [--json]` as a subprocess: the wire schema, a readable table, and a
clear partial answer without privileges (exit 3, documented in `scan --help`), never a traceback.

The unprivileged runs use a copy of the agent package in a folder every user can read, and the
base interpreter (the scan needs only the standard library): the checkout and its .venv may sit
in a folder other users cannot enter (root's home, a `mktemp -d`), which `nobody` could not import
the agent from."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest

from agent.protocol import PROTOCOL_VERSION, Inventory, namespace_key
from tests.agent.inventory_view import View, assert_pair
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout
EXIT_OK, EXIT_PARTIAL = 0, 3  # agent/__main__.py: 0 complete, 3 partial (see errors), 1 failed
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
NO_CAPS = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]  # still uid 0, but no capability
BASE_PYTHON = os.path.realpath(sys._base_executable)  # the venv's interpreter, without the venv
SETPRIV_CANNOT_EXEC = (126, 127)


def agent(*args: str, prefix: list[str] | None = None, home: str = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m agent ARGS``: from the checkout, or with ``prefix`` (a privilege drop) from
    ``home``, a world-readable copy of the agent package (``readable_agent``)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if prefix:
        argv = [*prefix, BASE_PYTHON, "-s", "-m", "agent", *args]
        env["PYTHONPATH"] = home
    else:
        argv = [sys.executable, "-m", "agent", *args]
    proc = subprocess.run(argv, cwd=home, env=env, capture_output=True, text=True, timeout=120, check=False)
    if prefix and proc.returncode in SETPRIV_CANNOT_EXEC and "failed to execute" in proc.stderr:
        pytest.skip(f"the dropped user cannot execute the interpreter {BASE_PYTHON}: {proc.stderr.strip()}")
    return proc


@pytest.fixture(scope="module")
def readable_agent() -> Iterator[str]:
    """A folder every user can enter holding a copy of the agent package; removed afterwards."""
    base = tempfile.mkdtemp(prefix="nsmap-agent-copy-")
    try:
        shutil.copytree(
            os.path.join(ROOT, "agent"), os.path.join(base, "agent"), ignore=shutil.ignore_patterns("__pycache__")
        )
        for folder, _dirs, files in os.walk(base):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        yield base
    finally:
        shutil.rmtree(base)


def test_it_prints_one_json_object_in_the_wire_schema(topo: Topology) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)
    topo.addr(a, "v0", "fd00:12::1/64")

    proc = agent("scan", "--json")

    assert proc.returncode == EXIT_OK, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert data["v"] == PROTOCOL_VERSION
    inventory = Inventory.from_json(data)
    assert inventory.to_json() == data  # nothing outside the schema, nothing lost
    view = View(inventory)
    assert view.ns(a).names == [a.name]
    assert_pair(view, topo, a, "v0", b, "v1")
    assert "fd00:12::1/64" in {str(x) for x in view.iface(a, "v0").addresses}


def test_it_prints_a_table_with_exact_peers(topo: Topology) -> None:
    a, b = topo.add_netns("a"), topo.add_netns("b")
    topo.veth("v0", a, "v1", b)

    proc = agent("scan")

    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stdout.startswith("host ")
    assert f"{a.name} [named {namespace_key(a.inode)}]" in proc.stdout
    lines = [line for line in proc.stdout.splitlines() if " v0@if" in line or " v1@if" in line]
    assert any(f"peer v1 in {b.name}" in line for line in lines), lines
    assert any(f"peer v0 in {a.name}" in line for line in lines), lines


@pytest.mark.parametrize("who", ["nobody", "root-without-capabilities"])
def test_it_explains_a_partial_view_without_privileges(topo: Topology, readable_agent: str, who: str) -> None:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop privileges")
    a = topo.add_netns("a")
    host = topo.name("h0")
    topo.veth(host, topo.root, "eth0", a)

    proc = agent("scan", "--json", prefix=NOBODY if who == "nobody" else NO_CAPS, home=readable_agent)

    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == EXIT_PARTIAL, (proc.returncode, proc.stderr)
    assert "root" in proc.stderr  # says what would let it see everything
    inventory = Inventory.from_json(json.loads(proc.stdout))
    assert inventory.errors
    kinds = {n.kind for n in inventory.namespaces}
    assert "root" in kinds
    root = next(n for n in inventory.namespaces if n.kind == "root")
    assert root.inode == os.stat("/proc/self/ns/net").st_ino
    root_names = {i.name for i in inventory.interfaces if i.namespace == root.key}
    assert "lo" in root_names  # what is readable is still reported
    # a's links could not be read: the host end's peer is honestly unresolved, not invented
    assert not [i for i in inventory.interfaces if i.namespace == namespace_key(a.inode)]
    end = next(i for i in inventory.interfaces if i.namespace == root.key and i.name == host)
    assert (end.peer, end.peer_status, end.peer_ifindex) == (None, "unresolved", 2)
    # the note must say why: a's namespace was unreadable, not empty of veths (iproute2 shows one)
    assert topo.link(a, "eth0")["linkinfo"]["info_kind"] == "veth"
    assert "no veth" not in (end.peer_note or ""), end.peer_note


def test_it_documents_its_exit_status() -> None:
    proc = agent("scan", "--help")
    assert proc.returncode == 0
    assert "3 partial" in proc.stdout
