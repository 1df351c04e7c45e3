"""Support for the lab-command server tests: an operator, its POST to the commands API, a node
online, and the node queue as an agent reads it.

``taken(node)`` drains what the server put on Celery queue node.<node> of the in-memory broker
(embedded settings: CELERY_BROKER_URL=memory://), as (task name, Celery body), exactly what the
agent's kombu consumer receives.
"""

from __future__ import annotations

import json
from typing import Any

from kombu import Connection

URL = "/api/v1/commands/"


def post(client: Any, token: str, body: Any, **extra: Any) -> Any:
    """POST ``body`` as JSON to the commands API with ``token`` (``extra``: more request headers)."""
    return client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", **extra
    )


def mark_online(node: str = "h1") -> None:
    """``node`` online, so that commands for it are accepted, and its queue empty (nothing left
    over from another test)."""
    from webui.topology.models import Node

    Node.objects.filter(name=node).update(state="online")
    taken(node)


def taken(node: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    with Connection("memory://") as conn:
        queue = conn.SimpleQueue(f"node.{node}")
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    break
                out.append((message.headers.get("task"), message.payload))
                message.ack()
        finally:
            queue.close()
    return out


def make_operator(username: str = "op1", role: str = "operator") -> tuple[Any, str]:
    """A user with ``role`` and an API token for it."""
    from django.contrib.auth.models import Group, User

    from webui.accounts.models import Token

    user = User.objects.create_user(username, password=f"pw-{username}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user, Token.issue(user)[1]
