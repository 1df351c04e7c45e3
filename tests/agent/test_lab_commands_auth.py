"""A lab command runs only when the server signed it with this node's key; the rest is dropped unheard."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from agent.actions import Actions
from agent.lab import MAX_AGE, LabCommands
from agent.labwire import validate_command_result
from agent.protocol import PROTOCOL_VERSION
from tests.agent.lab_support import KEY, Reports, signed
from tests.kernel_topology import NETNS_DIR, new_prefix


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def lab_commands(reports: Reports):
    actions = Actions("h1")
    yield LabCommands("h1", KEY, actions, report=reports)
    actions.close()


# netns.create: would change the host if it ran; a fresh prefix so that a regression's namespace
# is ours alone to find and delete
NEVER = new_prefix()
ARGS = {"name": NEVER}


@pytest.fixture(autouse=True)
def never_created() -> Iterator[None]:
    """Fail a test whose dropped command made the namespace anyway, and delete what it made."""
    yield
    made = os.path.lexists(os.path.join(NETNS_DIR, NEVER))
    if made:
        subprocess.run(["ip", "netns", "del", NEVER], capture_output=True, timeout=30, check=False)
    assert not made, f"a command that should have been dropped created the namespace {NEVER}"


def test_it_drops_a_forged_command_without_running_or_reporting(lab_commands: LabCommands, reports: Reports):
    body, signature = signed("netns.create", ARGS)
    forged = body.replace("alice", "mallory")
    outcome = lab_commands.handle(forged, signature)
    assert (outcome.status, outcome.error) == ("rejected", "bad signature (forged, or signed with another node's key)")
    assert reports == [] and lab_commands.rejected == 1


def test_it_drops_a_command_signed_with_another_nodes_key(lab_commands: LabCommands, reports: Reports):
    outcome = lab_commands.handle(*signed("netns.create", ARGS, key="another-node-key-0123456789abcdef"))
    assert outcome.status == "rejected" and "bad signature" in (outcome.error or "")
    assert reports == []


@pytest.mark.parametrize("signature", [None, "", "00" * 32])
def test_it_drops_an_unsigned_or_badly_signed_command(lab_commands: LabCommands, signature):
    body, _ = signed("netns.create", ARGS)
    outcome = lab_commands.handle(body, signature)
    assert outcome.status == "rejected" and ("unsigned" in outcome.error or "bad signature" in outcome.error)


def test_it_runs_nothing_without_a_node_key(reports: Reports):
    actions = Actions("h1")
    try:
        outcome = LabCommands("h1", None, actions, report=reports).handle(*signed("netns.create", ARGS))
    finally:
        actions.close()
    assert outcome.status == "rejected" and "no NSMAP_NODE_KEY" in (outcome.error or "")


def test_it_drops_an_expired_command(lab_commands: LabCommands, reports: Reports):
    outcome = lab_commands.handle(*signed("netns.create", ARGS, at=time.time() - MAX_AGE - 5))
    assert outcome.status == "rejected" and (outcome.error or "").startswith("expired")
    assert reports == []


def test_it_drops_a_command_from_the_future(lab_commands: LabCommands):
    outcome = lab_commands.handle(*signed("netns.create", ARGS, at=time.time() + 3600))
    assert outcome.status == "rejected" and "future" in (outcome.error or "")


def test_it_drops_a_signed_message_that_breaks_the_envelope(lab_commands: LabCommands):
    from agent.signing import sign

    body = json.dumps({"v": PROTOCOL_VERSION, "type": "command", "id": "x", "verb": "ping", "args": {}})
    outcome = lab_commands.handle(body, sign(body.encode(), KEY))
    assert outcome.status == "rejected" and "missing" in (outcome.error or "")


def test_it_reports_bad_args_of_an_authentic_command_as_failed(lab_commands: LabCommands, reports: Reports):
    body, signature = signed("netns.create", {"name": "a/b"})
    outcome = lab_commands.handle(body, signature)
    assert outcome.status == "failed" and "args.name" in (outcome.error or "")
    assert [validate_command_result(r)["status"] for r in reports] == ["failed"]
    assert reports[0]["id"] == json.loads(body)["id"] and "must not contain '/'" in reports[0]["error"]
