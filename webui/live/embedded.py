"""Embedded mode's in-process links: the local agent's command handler and the ASGI event loop.

In embedded mode the agent runs in a thread of the server process. Commands for it (``resync``)
are handed to the registered handler instead of a Celery queue, and broadcasts made in the
agent's thread are scheduled onto the ASGI server's event loop, where the in-memory channel
layer's queues live (an asyncio queue must only be touched from its own loop).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("nsmap.embedded")

_lock = threading.Lock()
_agent: Callable[[str], Any] | None = None
_loop: asyncio.AbstractEventLoop | None = None


def register_local_agent(handler: Callable[[str], Any] | None) -> None:
    """Install (or with None remove) the local agent's ``handle_command(body)``."""
    global _agent
    with _lock:
        _agent = handler


def send_to_local_agent(body: str) -> bool:
    """Hand a command's JSON text to the local agent; False when no agent is running here."""
    with _lock:
        handler = _agent
    if handler is None:
        log.warning("no local agent to send a command to: %.200s", body)
        return False
    try:
        handler(body)
    except Exception:
        log.exception("the local agent failed to take a command")
        return False
    return True


def set_server_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Remember the ASGI server's loop (the consumer calls this when a client connects)."""
    global _loop
    with _lock:
        _loop = loop


def server_loop() -> asyncio.AbstractEventLoop | None:
    with _lock:
        loop = _loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


_lab: Callable[[str, str], Any] | None = None


def register_local_lab(handler: Callable[[str, str], Any] | None) -> None:
    """Install (or with None remove) the local agent's lab-command entry ``(body, signature)``.

    The handler must return at once (webui.commands sends from the request's commit): the
    embedded server gives it a thread of its own (nsmap_serve)."""
    global _lab
    with _lock:
        _lab = handler


def has_local_lab() -> bool:
    with _lock:
        return _lab is not None


def send_lab_to_local_agent(body: str, signature: str) -> bool:
    """Hand a signed lab command to the local agent; False when none takes lab commands here."""
    with _lock:
        handler = _lab
    if handler is None:
        return False
    try:
        handler(body, signature)
    except Exception:
        log.exception("the local agent failed to take a lab command")
        return False
    return True
