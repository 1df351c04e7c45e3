"""Signed lab commands as the server makes them (agent/labwire.py make_command, agent/signing.py)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from agent.labwire import make_command
from agent.signing import sign

KEY = "lab-test-node-key-0123456789abcdef"


def signed(
    verb: str, args: dict[str, Any], *, key: str = KEY, ident: str | None = None, at: float | None = None
) -> tuple[str, str]:
    """(body, signature) of a command from actor "alice"."""
    message = make_command(ident or str(uuid.uuid4()), verb, args, "alice", "req-1", time.time() if at is None else at)
    body = json.dumps(message, separators=(",", ":"))
    return body, sign(body.encode(), key)


class Reports(list):
    """The command_result messages an agent reported, parsed (``report`` callback)."""

    def __call__(self, body: str, signature: str | None) -> None:
        assert signature == sign(body.encode(), KEY), "a result was not signed with the node key"
        self.append(json.loads(body))
