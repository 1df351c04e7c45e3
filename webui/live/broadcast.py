"""Send a patch to every open WebSocket (group "topology"), from any thread.

Called from ``transaction.on_commit`` after an ingest, so a client never sees a change that was
rolled back. The patch is encoded once here, not once per client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from webui.live import embedded

GROUP = "topology"
log = logging.getLogger("nsmap.live")


def broadcast_patch(patch: dict[str, Any]) -> None:
    """``patch``: the body from webui.topology.graph.build_patch (with its ``seq``)."""
    text = json.dumps({"type": "patch", **patch}, separators=(",", ":"))
    send({"type": "topology.patch", "seq": patch["seq"], "text": text})


_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
SEND_WAIT = 2.0  # seconds a worker waits for a broadcast to leave (ordering is kept regardless)


def _broadcast_loop() -> asyncio.AbstractEventLoop:
    """One long-lived event loop thread per process for broadcasts from sync code (Celery
    workers). ``async_to_sync`` would build a new loop per call, and channels-redis keeps its
    connections per loop: every patch would open a new Redis connection. Made after a fork."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="nsmap-broadcast", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def send(message: dict[str, Any], group: str = GROUP) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = embedded.server_loop()
        if loop is not None:
            # embedded: the in-memory layer belongs to the ASGI loop; schedule there, in order
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                loop.create_task(layer.group_send(group, message))
            else:
                asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        elif settings.EMBEDDED:
            async_to_sync(layer.group_send)(group, message)  # no server loop yet: nobody listens
        else:
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _broadcast_loop())
            future.result(SEND_WAIT)
    except Exception:  # a broadcast failure must not fail the ingest; clients resync on a gap
        log.exception("broadcast of %s %s to %s failed", message.get("type"), message.get("seq", ""), group)
