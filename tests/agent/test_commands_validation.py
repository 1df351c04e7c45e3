"""Commands are validated completely; a bad one is rejected with a clear reason and nothing runs."""

from __future__ import annotations

import json
import uuid

import pytest

from agent.commands import (
    MAX_BODY,
    Command,
    CommandError,
    CommandExecutor,
    parse_celery_message,
    parse_command,
)
from agent.protocol import PROTOCOL_VERSION

GOOD_ID = str(uuid.uuid4())


def body(**fields) -> str:
    data = {"v": PROTOCOL_VERSION, "type": "command", "command": "resync", "id": GOOD_ID}
    data.update(fields)
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def test_it_accepts_a_resync():
    assert parse_command(body()) == Command("resync", GOOD_ID)
    assert parse_command(body().encode()) == Command("resync", GOOD_ID)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (42, "JSON text"),
        (None, "JSON text"),
        (body(v=PROTOCOL_VERSION + 1), "protocol version"),
        (body(v=True), "protocol version"),
        (body(v=...), "protocol version"),
        (body(type="delta"), "type"),
        (body(command="rm -rf /"), "unknown command"),
        (body(command="delete"), "unknown command"),
        (body(command=["resync"]), "unknown command"),
        (body(command=...), "unknown command"),
        (body(id="not-a-uuid"), "not a UUID"),
        (body(id=7), "UUID string"),
        (body(id=...), "UUID string"),
        (body(args={"dev": "eth0"}), "unexpected fields"),
        (" " * (MAX_BODY + 1), "exceeds"),
    ],
)
def test_it_rejects_malformed_commands_with_a_reason(text, reason):
    with pytest.raises(CommandError, match=reason):
        parse_command(text)


def test_it_runs_nothing_for_a_rejected_command():
    calls: list[Command] = []
    executor = CommandExecutor({"resync": calls.append})
    outcome = executor.handle(body(command="shutdown"))
    assert outcome["ok"] is False and "unknown command" in outcome["error"]
    assert calls == [] and executor.rejected == 1


def test_it_runs_a_valid_command_once_even_when_redelivered():
    calls: list[Command] = []
    executor = CommandExecutor({"resync": calls.append})
    assert executor.handle(body())["ok"] is True
    again = executor.handle(body())
    assert again["ok"] is True and again.get("duplicate") is True
    assert calls == [Command("resync", GOOD_ID)]
    assert executor.handle(body(id=str(uuid.uuid4())))["ok"] is True
    assert len(calls) == 2


def test_it_reports_a_failing_handler_without_raising():
    def boom(_command: Command) -> None:
        raise RuntimeError("publisher gone")

    outcome = CommandExecutor({"resync": boom}).handle(body())
    assert outcome["ok"] is False and "publisher gone" in outcome["error"]


def test_it_refuses_handlers_for_commands_it_does_not_know():
    with pytest.raises(ValueError):
        CommandExecutor({"format-disk": lambda c: None})


def test_it_unwraps_a_celery_protocol_2_message():
    headers = {"task": "nsmap.agent_command", "id": "x"}
    assert parse_celery_message([[body()], {}, {}], headers) == body()


@pytest.mark.parametrize(
    ("payload", "headers", "reason"),
    [
        ([[body()], {}, {}], {"task": "nsmap.ingest"}, "is not"),
        ([[body()], {}, {}], None, "is not"),
        ({"args": [body()]}, {"task": "nsmap.agent_command"}, "protocol 2"),
        ([[body()], {"force": True}, {}], {"task": "nsmap.agent_command"}, "keyword"),
        ([[body(), body()], {}, {}], {"task": "nsmap.agent_command"}, "exactly one"),
        ([[{"command": "resync"}], {}, {}], {"task": "nsmap.agent_command"}, "exactly one"),
    ],
)
def test_it_rejects_malformed_celery_envelopes(payload, headers, reason):
    with pytest.raises(CommandError, match=reason):
        parse_celery_message(payload, headers)
