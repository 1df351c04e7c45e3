"""Embedded mode's in-process links: the local agent's command handlers and the ASGI event loop.

In embedded mode the agent runs in a thread of the server process. What the server would put on
the agent's Celery queue (a ``resync``, a signed lab command) is handed to the handler registered
for that task name instead, and broadcasts made in the agent's thread are scheduled onto the ASGI
server's event loop, where the in-memory channel layer's queues live (an asyncio queue must only
be touched from its own loop).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings

log = logging.getLogger("nsmap.embedded")

_lock = threading.Lock()
_handlers: dict[str, Callable[..., Any]] = {}  # Celery task name -> the local agent's entry for it
_loop: asyncio.AbstractEventLoop | None = None


def is_local(node: str) -> bool:
    """True for this server's own agent: embedded mode, and the node it runs as."""
    return bool(settings.EMBEDDED) and node == settings.NODE_NAME


def register(task: str, handler: Callable[..., Any] | None) -> None:
    """Install (or with None remove) the local agent's entry for ``task``, called with the task's
    args. It must return at once (commands are sent from a request's commit): nsmap_serve gives
    the lab commands a thread of their own."""
    with _lock:
        if handler is None:
            _handlers.pop(task, None)
        else:
            _handlers[task] = handler


def clear() -> None:
    """Remove every handler (the local agent stopped)."""
    with _lock:
        _handlers.clear()


def registered(task: str) -> bool:
    with _lock:
        return task in _handlers


def deliver(task: str, *args: Any) -> bool:
    """Hand ``task``'s args to the local agent; False when nothing here takes that task."""
    with _lock:
        handler = _handlers.get(task)
    if handler is None:
        log.warning("no local agent takes %s", task)
        return False
    try:
        handler(*args)
    except Exception:
        log.exception("the local agent failed to take %s", task)
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
