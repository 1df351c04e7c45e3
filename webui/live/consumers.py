"""WebSocket /ws/topology/: the graph first, then numbered patches (docs/CONTRACTS.md).

A client sees patches in order and without gaps: the consumer drops patches already contained
in the graph it sent, holds back a patch that arrives before its predecessor (two workers can
commit in one order and broadcast in the other) and, when a hole is not filled quickly, sends
the whole graph again. A watchdog re-joins the group (a restarted Redis forgets groups) and
compares the stored graph version with what the client has, so a lost broadcast costs at most
a few seconds and a fresh graph, never a silently wrong page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from webui.accounts.ws import still_allowed, user_group
from webui.live import embedded, trace
from webui.live.broadcast import GROUP
from webui.topology.liveness import mark_stale
from webui.topology.queries import current_seq, load_graph

log = logging.getLogger("nsmap.live")

CLOSE_UNAUTHENTICATED = 4401  # also: the credentials were revoked (signed out, deactivated, ...)
CLOSE_ROLES_CHANGED = 4403  # reconnect to be authorised with the new roles
CLOSE_TOO_MANY = 4429  # the user has NSMAP_WS_MAX_PER_USER sockets open on this process
CLOSE_TOO_BIG = 1009  # RFC 6455: a message over NSMAP_WS_MAX_INBOUND
_open_per_user: Counter[int] = Counter()  # this process's sockets per user (the event loop's thread only)
AUTH_RECHECK = 30.0  # seconds between a socket's own credential checks (signals close it at once)
DATABASE_FREE = frozenset({"topology.patch", "topology.command"})  # group messages handled without the database
HOLE_WAIT = 0.5  # seconds a missing patch may be late before the client gets the whole graph


def _graph_message() -> tuple[int, str]:
    """The graph message (its seq, its text), after marking silent nodes stale (cheap when none
    is due). Open sockets learn of later staleness from the patches of the periodic check (celery
    beat in distributed mode, a thread of nsmap_serve in embedded mode)."""
    mark_stale()
    graph = load_graph()
    return graph["seq"], json.dumps({"type": "graph", "seq": graph["seq"], "graph": graph}, separators=(",", ":"))


class _Shared:
    """One call of a database read at a time per process, its result shared by every socket that
    asks while it runs: under load many sockets want the same thing at once (the whole graph
    after a hole, the stored graph version every few seconds), and reading and encoding it once
    instead of once per socket is what keeps the server from falling further behind."""

    def __init__(self, read: Any) -> None:
        self.read = database_sync_to_async(read)
        self.flight: tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]] | None = None

    async def __call__(self) -> Any:
        loop = asyncio.get_running_loop()
        if self.flight is None or self.flight[0] is not loop or self.flight[1].done():
            self.flight = (loop, asyncio.ensure_future(self.read()))
        return await asyncio.shield(self.flight[1])


_shared_graph_message = _Shared(_graph_message)
_shared_current_seq = _Shared(current_seq)


class TopologyConsumer(AsyncWebsocketConsumer):
    last_seq: int = 0

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Patches and command updates skip channels' ``aclose_old_connections``: it hops to the one
        sync thread for every message of every socket, so with 50 viewers each change queued 50
        thread hops behind each other (bench/load.py's p99). These handlers touch no database;
        the ones that do go through ``database_sync_to_async``, which closes old connections itself."""
        if message["type"] in DATABASE_FREE:
            await getattr(self, get_handler_name(message))(message)
        else:
            await super().dispatch(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.closed = False
        self.roles = await database_sync_to_async(still_allowed)(self.scope)
        if self.roles is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if _open_per_user[user.pk] >= settings.NSMAP_WS_MAX_PER_USER:
            log.warning("user %s has %d sockets open: refusing another", user.pk, _open_per_user[user.pk])
            await self.close(code=CLOSE_TOO_MANY)
            return
        _open_per_user[user.pk] += 1
        self.counted = user.pk
        self.next_resync = 0.0
        self.resync_task: asyncio.Task[None] | None = None
        self.user_group = user_group(user.pk)
        session = self.scope.get("session")
        self.session_key = session.session_key if self.scope.get("auth_method") == "session" and session else None
        if settings.EMBEDDED:
            embedded.set_server_loop(asyncio.get_running_loop())
        self.pending: dict[int, str] = {}
        self.hole_since: float | None = None
        self.behind_since: float | None = None
        self.sending = asyncio.Lock()
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        await self.send_graph()
        self.watchdog = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        counted = getattr(self, "counted", None)
        if counted is not None:
            self.counted = None
            _open_per_user[counted] -= 1
            if _open_per_user[counted] <= 0:
                del _open_per_user[counted]
        resync_task = getattr(self, "resync_task", None)
        if resync_task is not None:
            resync_task.cancel()
        watchdog = getattr(self, "watchdog", None)
        if watchdog is not None:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watchdog
        with contextlib.suppress(Exception):
            await self.channel_layer.group_discard(GROUP, self.channel_name)
        if hasattr(self, "user_group"):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def auth_recheck(self, event: dict[str, Any]) -> None:
        """Group message from webui.accounts.signals: the user's credentials changed."""
        if event.get("session") and event["session"] == self.session_key:
            await self._end(CLOSE_UNAUTHENTICATED, "signed out")
        else:
            await self._recheck()

    async def _recheck(self) -> bool:
        """Close the socket when its credentials no longer hold (or its roles changed)."""
        if self.closed:
            return False
        roles = await database_sync_to_async(still_allowed)(self.scope)
        if roles is None:
            await self._end(CLOSE_UNAUTHENTICATED, "credentials revoked")
        elif roles != self.roles:
            await self._end(CLOSE_ROLES_CHANGED, "roles changed")
        return not self.closed

    async def _end(self, code: int, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        log.info("closing the socket of user %s: %s", _user_pk(self.scope), why)
        await self.close(code=code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        size = len(text_data.encode("utf-8", "surrogatepass")) if text_data else len(bytes_data or b"")
        if size > settings.NSMAP_WS_MAX_INBOUND:
            log.warning(
                "user %s sent %d bytes (limit %d): closing", _user_pk(self.scope), size, settings.NSMAP_WS_MAX_INBOUND
            )
            await self._end(CLOSE_TOO_BIG, "message too big")
            return
        try:
            message = json.loads(text_data or "")
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "resync":
            await self._resync()
        elif kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong", "seq": self.last_seq}))
        else:
            await self.send(text_data=json.dumps({"type": "error", "error": "expected {'type': 'resync'|'ping'}"}))

    async def _resync(self) -> None:
        """The whole graph, at most once per NSMAP_WS_RESYNC_INTERVAL: asks in between are merged
        into one graph sent when the interval is over."""
        if self.resync_task is not None:
            return
        wait = self.next_resync - time.monotonic()
        if wait > 0:
            self.resync_task = asyncio.create_task(self._resync_later(wait))
            return
        if await self._recheck():
            self.next_resync = time.monotonic() + settings.NSMAP_WS_RESYNC_INTERVAL
            await self.send_graph()

    async def _resync_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self.resync_task = None
        await self._resync()

    async def send_graph(self) -> None:
        async with self.sending:
            seq, text = await _shared_graph_message()
            if seq < self.last_seq:  # built before a patch this socket already sent
                seq, text = await database_sync_to_async(_graph_message)()
            await self.send(text_data=text)
            self.last_seq = seq
            self.pending = {s: t for s, t in self.pending.items() if s > seq}
            self.hole_since = None
            self.behind_since = None
            await self._flush()

    async def topology_patch(self, event: dict[str, Any]) -> None:
        """Group message from webui.live.broadcast: {"seq", "text"}."""
        seq = event["seq"]
        received = time.time()
        async with self.sending:
            if seq <= self.last_seq or self.closed:
                return
            self.pending[seq] = event["text"]
            await self._flush()
            if self.pending and self.hole_since is None:
                self.hole_since = time.monotonic()
        trace.emit("ws", seq, {"recv": received, "out": time.time()})

    async def topology_command(self, event: dict[str, Any]) -> None:
        """Group message from webui.commands.service.announce: a command's status, as {"text"}."""
        async with self.sending:
            if not self.closed:
                await self.send(text_data=event["text"])

    async def _flush(self) -> None:
        while self.last_seq + 1 in self.pending:
            self.last_seq += 1
            await self.send(text_data=self.pending.pop(self.last_seq))
        if not self.pending:
            self.hole_since = None

    async def _watch(self) -> None:
        interval = settings.NSMAP_WS_CHECK_SECONDS
        next_check = time.monotonic() + interval
        next_recheck = time.monotonic() + AUTH_RECHECK
        while True:
            await asyncio.sleep(HOLE_WAIT / 2 if self.pending else min(interval, HOLE_WAIT))
            try:
                now = time.monotonic()
                if self.hole_since is not None and now - self.hole_since >= HOLE_WAIT:
                    log.info("patch %d missing for %.1fs: sending the graph again", self.last_seq + 1, HOLE_WAIT)
                    await self.send_graph()
                    continue
                if now < next_check:
                    continue
                next_check = now + interval
                if now >= next_recheck:  # a backstop: expiry, or a change made without signals
                    next_recheck = now + AUTH_RECHECK
                    if not await self._recheck():
                        return
                await self.channel_layer.group_add(GROUP, self.channel_name)  # a restarted layer forgot both
                await self.channel_layer.group_add(self.user_group, self.channel_name)
                stored = await _shared_current_seq()
                if stored <= self.last_seq:
                    self.behind_since = None
                elif self.behind_since is None:
                    self.behind_since = now  # maybe a patch in flight: look again next time
                else:
                    log.info("client at %d, graph at %d: sending the graph again", self.last_seq, stored)
                    await self.send_graph()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep watching; a transient database or Redis error is no reason to stop
                log.exception("websocket watchdog")


def _user_pk(scope: Any) -> Any:
    """The socket's user id, for logs (None before authentication)."""
    user = scope.get("user")
    return getattr(user, "pk", None)
