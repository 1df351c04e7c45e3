"""Lab commands and their results follow agent/labwire.py exactly; anything else is refused with the reason."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from agent.commands import CommandError, parse_lab_celery_message
from agent.labwire import make_command, make_command_result, validate_command, validate_command_result
from agent.protocol import PROTOCOL_VERSION, ProtocolError

ID = str(uuid.uuid4())


def command(**fields: Any) -> dict[str, Any]:
    data = make_command(ID, "ping", {"namespace": "lab", "address": "10.1.1.3"}, "alice", "req-1", 1700000000.0)
    data.update(fields)
    return {k: v for k, v in data.items() if v is not ...}


def result(**fields: Any) -> dict[str, Any]:
    data = make_command_result("h1", ID, "done", 1700000001.0, result={"sent": 3}, timings={"started": 1.0})
    data.update(fields)
    return {k: v for k, v in data.items() if v is not ...}


def test_it_accepts_what_make_command_and_make_command_result_build():
    assert validate_command(command()) == command()
    assert validate_command(command(request_id=None))["request_id"] is None
    assert validate_command_result(result()) == result()
    assert validate_command_result(result(status="failed", error="refused: x", result=None))["status"] == "failed"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"v": PROTOCOL_VERSION + 1}, "protocol version"),
        ({"type": "delta"}, "expected 'command'"),
        ({"extra": 1}, "unexpected ['extra']"),
        ({"actor": ...}, "missing ['actor']"),
        ({"id": "42"}, "not a canonical UUID"),
        ({"id": ID.upper()}, "not a canonical UUID"),
        ({"verb": ""}, "verb must be"),
        ({"args": []}, "args must be a JSON object"),
        ({"actor": "a" * 151}, "actor must be"),
        ({"actor": "al\nice"}, "control characters"),
        ({"request_id": 5}, "request_id must be"),
        ({"time": float("nan")}, "finite"),
        ({"time": True}, "finite"),
    ],
)
def test_it_refuses_a_malformed_command(fields: dict[str, Any], reason: str):
    with pytest.raises(ProtocolError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        validate_command(command(**fields))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"type": "command"}, "expected 'command_result'"),
        ({"status": "sent"}, "is not one of running, done, failed"),
        ({"status": "failed"}, "error must be"),
        ({"error": "boom"}, "a done command carries no error"),
        ({"result": [1]}, "result must be"),
        ({"timings": {"a": "1"}}, "finite"),
        ({"timings": {str(i): i for i in range(11)}}, "at most 10"),
        ({"node": ""}, "node must be"),
        ({"seq": 1}, "unexpected"),
    ],
)
def test_it_refuses_a_malformed_result(fields: dict[str, Any], reason: str):
    with pytest.raises(ProtocolError, match=reason):
        validate_command_result(result(**fields))


def test_it_takes_a_lab_command_task_as_text_and_signature():
    assert parse_lab_celery_message([["{}", "ab"], {}, {}]) == ("{}", "ab")
    assert parse_lab_celery_message([["{}", None], {}, {}]) == ("{}", None)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([["{}"], {}, {}], "two arguments"),
        ([["{}", "ab"], {"x": 1}, {}], "no keyword"),
        ([["{}", 5], {}, {}], "hex string"),
        ("text", "Celery protocol 2"),
    ],
)
def test_it_refuses_a_malformed_lab_command_task(payload: Any, reason: str):
    with pytest.raises(CommandError, match=reason):
        parse_lab_celery_message(payload)


def test_it_builds_a_result_with_its_error_cut_to_the_limit_and_its_timings():
    failed = make_command_result("h1", ID, "failed", 2.0, error="x" * 2500, timings={"started": 1.0})
    assert failed["error"] == "x" * 2000 and failed["timings"] == {"started": 1.0}
    done = make_command_result("h1", ID, "done", 2.0)
    assert done["error"] is None and done["timings"] == {}


@pytest.mark.parametrize(
    "fields",
    [
        {"verb": "v"},
        {"verb": "v" * 40},
        {"actor": "a"},
        {"request_id": "r"},
    ],
)
def test_it_accepts_a_command_at_the_edges_of_its_limits(fields: dict[str, Any]):
    assert validate_command(command(**fields)) == command(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"node": "n"},
        {"node": "n" * 63},
        {"status": "failed", "error": "e", "result": None},
        {"timings": {str(i): float(i) for i in range(10)}},
        {"timings": {"t" * 40: 1.0}},
    ],
)
def test_it_accepts_a_result_at_the_edges_of_its_limits(fields: dict[str, Any]):
    assert validate_command_result(result(**fields)) == result(**fields)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"type": "delta"}, "type 'delta', expected 'command'"),
        ({"id": 42}, "id must be a UUID string"),
        ({"verb": "v" * 41}, "verb must be a string of 1..40 characters"),
        ({"args": []}, "args must be a JSON object"),
        ({"time": "now"}, "time must be a finite number"),
    ],
)
def test_it_says_exactly_why_a_command_is_refused(fields: dict[str, Any], reason: str):
    with pytest.raises(ProtocolError) as refused:
        validate_command(command(**fields))
    assert str(refused.value) == reason


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"node": "n" * 64}, "node must be a string of 1..63 characters"),
        ({"id": 42}, "id must be a UUID string"),
        ({"result": [1]}, "result must be a JSON object or null"),
        ({"timings": []}, "timings must be an object of at most 10 numbers"),
        ({"timings": {"t" * 41: 1.0}}, "timings key must be a string of 1..40 characters"),
        ({"timings": {"a": "1"}}, "timings['a'] must be a finite number"),
        ({"time": None}, "time must be a finite number"),
    ],
)
def test_it_says_exactly_why_a_result_is_refused(fields: dict[str, Any], reason: str):
    with pytest.raises(ProtocolError) as refused:
        validate_command_result(result(**fields))
    assert str(refused.value) == reason


def test_it_keeps_the_refusal_of_a_message_full_of_strange_fields_short():
    with pytest.raises(ProtocolError) as refused:
        validate_command(command(**{f"field{i:03}": i for i in range(100)}))
    assert len(str(refused.value)) == 300
    assert str(refused.value).startswith("command: missing [], unexpected ['field000', 'field001'")
