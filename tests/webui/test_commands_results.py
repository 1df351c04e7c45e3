"""Agents' command_result messages move a command forward only when authentic and in order."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from agent.labwire import make_command_result
from agent.signing import sign
from tests.webui.commands_support import make_operator
from webui.commands.models import Command
from webui.commands.service import ResultRejected, apply_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def command(node_key: str) -> Command:
    user, _ = make_operator()
    return Command.objects.create(
        node="h1", verb="netns.create", args={"name": "n1"}, actor=user, actor_name="op1", status="sent"
    )


def result(command: Command, status: str, key: str, node: str = "h1", **fields: Any) -> tuple[str, str]:
    message = make_command_result(node, str(command.pk), status, time.time(), **fields)
    body = json.dumps(message)
    return body, sign(body.encode(), key)


def test_it_moves_a_command_to_running_then_done(command: Command, node_key: str):
    apply_result(*result(command, "running", node_key, timings={"started": 1.0}))
    command.refresh_from_db()
    assert command.status == "running" and command.started_at is not None
    apply_result(*result(command, "done", node_key, result={"name": "n1"}))
    command.refresh_from_db()
    assert (command.status, command.result, command.error) == ("done", {"name": "n1"}, "")


def test_it_keeps_a_finished_command_finished(command: Command, node_key: str):
    apply_result(*result(command, "failed", node_key, error="refused: args.name: taken"))
    apply_result(*result(command, "running", node_key))
    apply_result(*result(command, "done", node_key))
    command.refresh_from_db()
    assert (command.status, command.error) == ("failed", "refused: args.name: taken")


def test_it_rejects_a_forged_result(command: Command, node_key: str):
    body, _ = result(command, "done", node_key)
    with pytest.raises(ResultRejected, match="bad or missing signature"):
        apply_result(body, sign(body.encode(), "another-key-0123456789abcdef"))
    with pytest.raises(ResultRejected, match="bad or missing signature"):
        apply_result(body, None)
    command.refresh_from_db()
    assert command.status == "sent"


def test_it_rejects_a_result_for_another_nodes_command(command: Command, node_key: str):
    from webui.topology.models import Node

    Node.objects.create(name="h2", key="h2-key-0123456789abcdef")
    with pytest.raises(ResultRejected, match="no command"):
        apply_result(*result(command, "done", "h2-key-0123456789abcdef", node="h2"))
    command.refresh_from_db()
    assert command.status == "sent"


@pytest.mark.parametrize("body", ["not json", "[]", '{"node": 5}'])
def test_it_rejects_what_is_not_a_result(command: Command, body: str, node_key: str):
    with pytest.raises(ResultRejected):
        apply_result(body, sign(body.encode(), node_key))


def test_it_rejects_a_malformed_result_even_when_signed(command: Command, node_key: str):
    message = make_command_result("h1", str(command.pk), "done", time.time())
    message["status"] = "exploded"
    body = json.dumps(message)
    with pytest.raises(ResultRejected, match="status"):
        apply_result(body, sign(body.encode(), node_key))
