"""`python -m agent do VERB ARGS` on the host: the same checks and execution; bad input exits 2, kernel unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agent.do_cli import UsageError, parse_words
from agent.settings import read_node_name
from tests.agent.actions_support import kernel_state
from tests.kernel_topology import Topology


def do(*words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", "do", *words, "--node", "h1"], capture_output=True, text=True, timeout=60
    )


def test_it_reads_key_value_words_with_dotted_keys():
    assert parse_words(["a.namespace=lab", "a.name=veth0", "a.mtu=9000", "a.up=true", "b.bridge=h1/if:1:2"]) == {
        "a": {"namespace": "lab", "name": "veth0", "mtu": 9000, "up": True},
        "b": {"bridge": "h1/if:1:2"},
    }


def test_it_reads_one_json_object():
    assert parse_words(['{"name": "123"}']) == {"name": "123"}


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        (["name"], "KEY=VALUE"),
        (["a=1", "a=2"], "twice"),
        (["a=1", "a.b=2"], "value and sub-keys"),
        (["{nope"], "not JSON"),
        (["[1]"], "KEY=VALUE"),
    ],
)
def test_it_refuses_words_it_cannot_read(words: list[str], reason: str):
    with pytest.raises(UsageError, match=reason):
        parse_words(words)


@pytest.mark.kernel
def test_it_creates_a_pair_and_prints_the_result(topo: Topology):
    a = topo.add_netns("a")
    proc = do(
        "veth.create", f"a.namespace={a.name}", "a.name=veth0", "a.up=true", f"b.namespace={a.name}", "b.name=veth1"
    )
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    assert printed["result"]["a"]["interface"] == f"h1/if:{a.inode}:{topo.link(a, 'veth0')['ifindex']}"
    assert topo.link(a, "veth0")["ifalias"] == f"nsmap:{printed['id']}"


@pytest.mark.kernel
@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["a.namespace={ns}", "a.name=abcdefghijklmnop", "b.namespace={ns}", "b.name=v1"], "args.a.name: is 16 bytes"),
        (["a.namespace={ns}", "a.name=v0", "b.namespace={ns}", "b.name=v0"], "args.b.name: both ends"),
        (["a.namespace={ns}", "a.name=v0", "a.address=10.0.0.1/33", "b.namespace={ns}", "b.name=v1"], "args.a.address"),
        (
            ["a.namespace={ns}", "a.name=taken", "b.namespace={ns}", "b.name=v1"],
            "refused: args.a.name: the name 'taken' is taken",
        ),
        (["a.namespace={ns}", "a.name=v0", "b.namespace=nsmnothere", "b.name=v1"], "there is no named namespace"),
        (["a.namespace={ns}", "a.name"], "expected KEY=VALUE"),
    ],
)
def test_it_exits_2_on_bad_input_with_the_kernel_unchanged(topo: Topology, words: list[str], message: str):
    a = topo.add_netns("a")
    topo.bridge(a, "taken")
    before = kernel_state(topo, a)
    proc = do("veth.create", *(w.format(ns=a.name) for w in words))
    assert proc.returncode == 2 and message in proc.stderr, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert kernel_state(topo, a) == before


def do_as_agent(env: dict[str, str], *words: str) -> subprocess.CompletedProcess[str]:
    """`do` without --node: the node name comes from the environment, as the agent's does."""
    return subprocess.run(
        [sys.executable, "-m", "agent", "do", *words], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.kernel
@pytest.mark.parametrize("node_name", [None, "h2.lab"])
def test_it_prints_ids_under_the_node_name_the_agent_publishes(topo: Topology, node_name: str | None):
    env = {k: v for k, v in os.environ.items() if k != "NODE_NAME"}
    if node_name is not None:
        env["NODE_NAME"] = node_name
    a = topo.add_netns("a")
    proc = do_as_agent(env, "bridge.create", f"namespace={a.name}", "name=br0")
    assert proc.returncode == 0, proc.stderr
    interface = json.loads(proc.stdout)["result"]["interface"]
    assert interface.split("/")[0] == read_node_name(env), f"{interface} is not under the agent's node name"


def test_it_exits_2_on_a_node_name_the_agent_would_refuse():
    proc = do_as_agent({**os.environ, "NODE_NAME": "no spaces"}, "bridge.create", "namespace=nsmx", "name=br0")
    assert proc.returncode == 2 and "NODE_NAME='no spaces'" in proc.stderr, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
