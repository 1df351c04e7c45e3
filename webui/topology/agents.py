"""Commands to agents. Embedded: the in-process registry; distributed: Celery queue node.<name>.

The agent consumes ``nsmap.agent_command`` from its own queue with kombu (docs/CONTRACTS.md);
the server only sends by name (the task name and version come from the agent's own modules).
"""

from __future__ import annotations

import json
import logging
import uuid

from django.conf import settings

from agent.commands import COMMAND_TASK
from agent.protocol import PROTOCOL_VERSION
from webui.live import embedded

log = logging.getLogger("nsmap.commands")


def queue_for(node: str) -> str:
    return f"node.{node}"


def command_body(command: str) -> str:
    return json.dumps({"v": PROTOCOL_VERSION, "type": "command", "command": command, "id": str(uuid.uuid4())})


def send_command(node: str, body: str) -> None:
    """Deliver a command's JSON text to the agent of ``node`` (call after commit)."""
    if settings.EMBEDDED and node == settings.NODE_NAME:
        embedded.send_to_local_agent(body)
        return
    from webui.celery import app

    try:
        app.send_task(COMMAND_TASK, args=[body], queue=queue_for(node))
    except Exception:  # the broker is away: the next message of that agent asks again
        log.exception("cannot send a command to node %s", node)


def request_snapshot(node: str) -> None:
    """Ask the agent of ``node`` for a fresh snapshot (the server saw a gap or a new run)."""
    log.info("asking node %s for a snapshot", node)
    send_command(node, command_body("resync"))
