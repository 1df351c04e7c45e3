"""Lab commands (server -> agent) and their results (agent -> server); docs/CONTRACTS.md "Lab verbs".

A command travels as Celery task LAB_COMMAND_TASK on queue node.<NODE_NAME> with args
[body, signature]: signature = agent.signing.sign(body, node key), over the exact text. A result
is signed the same way and sent as task COMMAND_RESULT_TASK [body, signature] on queue "ingest",
outside the snapshot/delta seq stream (a result is not a change of the topology), which is why
this envelope lives apart from agent/protocol.py's topology messages.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, Literal, get_args

from agent.protocol import PROTOCOL_VERSION, ProtocolError, check_version

LAB_COMMAND_TASK = "nsmap.agent_lab_command"
COMMAND_RESULT_TASK = "nsmap.command_result"
COMMAND_FIELDS = frozenset({"v", "type", "id", "verb", "args", "actor", "request_id", "time"})
RESULT_FIELDS = frozenset({"v", "type", "node", "id", "status", "error", "result", "timings", "time"})
CommandStatus = Literal["running", "done", "failed"]
COMMAND_STATUSES: tuple[CommandStatus, ...] = get_args(CommandStatus)
MAX_ACTOR = 150  # Django's username length
MAX_REQUEST_ID = 100
MAX_ERROR = 2000


def make_command(
    id: str, verb: str, args: dict[str, Any], actor: str, request_id: str | None, time: float
) -> dict[str, Any]:
    return {
        "v": PROTOCOL_VERSION,
        "type": "command",
        "id": id,
        "verb": verb,
        "args": args,
        "actor": actor,
        "request_id": request_id,
        "time": time,
    }


def make_command_result(
    node: str,
    id: str,
    status: CommandStatus,
    time: float,
    error: str | None = None,
    result: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    return {
        "v": PROTOCOL_VERSION,
        "type": "command_result",
        "node": node,
        "id": id,
        "status": status,
        "error": None if error is None else error[:MAX_ERROR],
        "result": result,
        "timings": timings or {},
        "time": time,
    }


def _exact_fields(data: Any, fields: frozenset[str], type_: str) -> dict[str, Any]:
    check_version(data)
    if data.get("type") != type_:
        raise ProtocolError(f"type {data.get('type')!r:.40}, expected {type_!r}")
    missing, extra = fields - set(data), set(data) - fields
    if missing or extra:
        raise ProtocolError(f"{type_}: missing {sorted(missing)!r}, unexpected {sorted(map(str, extra))!r}"[:300])
    checked: dict[str, Any] = data
    return checked


def _uuid(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be a UUID string")
    try:
        if str(uuid.UUID(value)) != value:
            raise ValueError
    except ValueError:
        raise ProtocolError(f"{name} {value!r:.60} is not a canonical UUID") from None


def _lab_text(value: Any, name: str, low: int, high: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise ProtocolError(f"{name} must be a string of {low}..{high} characters")
    if any(not ch.isprintable() for ch in value):
        raise ProtocolError(f"{name} must not contain control characters")


def _finite(value: Any, name: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ProtocolError(f"{name} must be a finite number")


def validate_command(message: Any) -> dict[str, Any]:
    """A lab command's envelope (the verb's args are agent.verbs' to check); ProtocolError with the reason."""
    data = _exact_fields(message, COMMAND_FIELDS, "command")
    _uuid(data["id"], "id")
    _lab_text(data["verb"], "verb", 1, 40)
    if not isinstance(data["args"], dict):
        raise ProtocolError("args must be a JSON object")
    _lab_text(data["actor"], "actor", 1, MAX_ACTOR)
    _lab_text(data["request_id"], "request_id", 1, MAX_REQUEST_ID, optional=True)
    _finite(data["time"], "time")
    return data


def validate_command_result(message: Any) -> dict[str, Any]:
    """An agent's report on a lab command; ProtocolError with the reason."""
    data = _exact_fields(message, RESULT_FIELDS, "command_result")
    _lab_text(data["node"], "node", 1, 63)
    _uuid(data["id"], "id")
    if data["status"] not in COMMAND_STATUSES:
        raise ProtocolError(f"status {data['status']!r:.40} is not one of {', '.join(COMMAND_STATUSES)}")
    if data["status"] == "failed":
        _lab_text(data["error"], "error", 1, MAX_ERROR)
    elif data["error"] is not None:
        raise ProtocolError(f"a {data['status']} command carries no error")
    if data["result"] is not None and not isinstance(data["result"], dict):
        raise ProtocolError("result must be a JSON object or null")
    timings = data["timings"]
    if not isinstance(timings, dict) or len(timings) > 10:
        raise ProtocolError("timings must be an object of at most 10 numbers")
    for key, value in timings.items():
        _lab_text(key, "timings key", 1, 40)
        _finite(value, f"timings[{key!r}]")
    _finite(data["time"], "time")
    return data
