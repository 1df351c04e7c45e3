"""Commands to agents. Embedded: the in-process registry; distributed: Celery queue node.<name>.

The agent consumes ``nsmap.agent_command`` from its own queue with kombu (docs/CONTRACTS.md);
the server only sends by name (the task name and version come from the agent's own modules).
"""

from __future__ import annotations

import json
import logging
import uuid

from agent.commands import COMMAND_TASK
from agent.protocol import PROTOCOL_VERSION
from webui.live import embedded

log = logging.getLogger("nsmap.commands")


def queue_for(node: str) -> str:
    return f"node.{node}"


def command_body(command: str) -> str:
    return json.dumps({"v": PROTOCOL_VERSION, "type": "command", "command": command, "id": str(uuid.uuid4())})


def deliver(node: str, task: str, args: list[str]) -> str | None:
    """Hand ``task`` with ``args`` to the agent of ``node`` (call after commit): in-process to the
    local agent in embedded mode, else on the node's Celery queue. Returns why it could not."""
    if embedded.is_local(node):
        return None if embedded.deliver(task, *args) else f"the local agent of {node} is not running"
    from webui.celery import app

    try:
        app.send_task(task, args=args, queue=queue_for(node))
    except Exception as exc:
        log.exception("cannot send %s to node %s", task, node)
        return f"the message broker is unreachable: {exc}"
    return None


def send_command(node: str, body: str) -> None:
    """Deliver a command's JSON text to the agent of ``node``; when it cannot be delivered, the
    agent's next message asks again."""
    deliver(node, COMMAND_TASK, [body])


def request_snapshot(node: str) -> None:
    """Ask the agent of ``node`` for a fresh snapshot (the server saw a gap or a new run)."""
    log.info("asking node %s for a snapshot", node)
    send_command(node, command_body("resync"))
