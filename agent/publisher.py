"""Snapshot first, then coalesced deltas, numbered without gaps, signed, through a pluggable transport.

Coalescing is leading-edge: a change after a quiet spell goes out at once, and what follows
within NSMAP_COALESCE_MS travels in one delta when that window closes (the latest change per
record wins), so a burst costs one message per window and a lone change costs no wait.

Why it keeps a mirror of the published state: a snapshot asked for at any moment (a resync
command, the broker coming back, a buffer overflow) must equal exactly the state that the
messages before it built up, so the snapshot is cut from the mirror at the point in the stream
where it is numbered, never from a scan racing with the deltas.

Why one message at a time: while the broker is down the head message is retried as is (same
seq, same signature) and new changes pile up unnumbered, compacted by key, so numbering never
has gaps and the buffer is bounded by the size of the inventory; when it overflows anyway, the
pending changes are dropped and a snapshot replaces them. After a few failed attempts the stuck
message itself is replaced by a snapshot with its number. When the broker comes back after a
failure a fresh snapshot follows (unless the message that got through was one), because a
restarted Redis may have lost what it had queued.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from agent.env import celery_broker_url
from agent.inbox import DRAIN_TASK, INBOX_KEY, INGEST_QUEUE, KICK_KEY, KICK_TTL_MS, PUSH_SCRIPT, encode_item
from agent.protocol import Change, Inventory, MessageType, canonical_order, make_message
from agent.signing import sign

log = logging.getLogger("nsmap.agent.publisher")

DEFAULT_BUFFER_LIMIT = 200_000  # distinct pending changes while the broker is away
RETRY_MIN, RETRY_MAX = 0.1, 2.0
GIVE_UP_AFTER = 3  # failed attempts before a stuck delta or heartbeat becomes a snapshot


class Transport(Protocol):
    """Delivers one message; raises on failure (the publisher retries)."""

    def send(self, body: str, signature: str | None) -> None: ...

    def close(self) -> None: ...


class CallableTransport:
    """Embedded mode: the server's ingest function, called in-process."""

    def __init__(self, fn: Callable[[str, str | None], Any]) -> None:
        self.fn = fn

    def send(self, body: str, signature: str | None) -> None:
        self.fn(body, signature)

    def close(self) -> None:
        pass


class CeleryTransport:
    """Distributed mode: the message goes into its node's inbox in Redis (agent/inbox.py), then
    `send_task("nsmap.drain", [node], queue="ingest")` wakes a worker.

    Why an inbox and not the message itself as the task: a worker drains everything waiting
    in one transaction (consecutive deltas merged), so when messages come faster than one
    transaction each, the backlog is applied at once instead of queueing behind Celery's
    one-message-at-a-time delivery. The wake-up is skipped while another is pending or a drain
    is running (KICK_KEY, set with the push in one script; a drain deletes it when it is done).

    No Django: a bare Celery app that only produces, and a Redis client. Timeouts are short
    so that a dead broker makes ``send`` fail in about a second instead of blocking the
    publisher for long. A message pushed whose wake-up then failed is not pushed again when
    the publisher retries it: only the wake-up is.
    """

    def __init__(self, broker_url: str, connect_timeout: float = 1.0, node: str | None = None) -> None:
        import redis
        from celery import Celery

        self.node = node
        self.app = Celery("nsmap-agent", broker=celery_broker_url(broker_url), set_as_current=False)
        self.app.conf.update(
            broker_connection_timeout=connect_timeout,
            broker_connection_retry=False,
            broker_connection_retry_on_startup=False,
            broker_connection_max_retries=0,
            task_publish_retry=False,
            broker_transport_options={
                "socket_connect_timeout": connect_timeout,
                "socket_timeout": max(2.0, connect_timeout),
                "max_retries": 0,
            },
            broker_heartbeat=0,
        )
        self.redis = redis.Redis.from_url(
            broker_url, socket_connect_timeout=connect_timeout, socket_timeout=max(2.0, connect_timeout)
        )
        self.push = self.redis.register_script(PUSH_SCRIPT)
        self.pushed: str | None = None  # the body in the inbox whose wake-up has not gone out yet

    def send(self, body: str, signature: str | None) -> None:
        node = self.node or json.loads(body)["node"]
        if self.pushed is not body:
            item = encode_item(body, signature)
            wake = self.push(keys=[INBOX_KEY.format(node=node), KICK_KEY.format(node=node)], args=[item, KICK_TTL_MS])
            self.pushed = body
        else:
            wake = 1
        if wake:
            self.app.send_task(DRAIN_TASK, args=[node], queue=INGEST_QUEUE, retry=False)
        self.pushed = None

    def close(self) -> None:
        try:
            self.app.close()
            self.redis.close()
        except Exception:  # closing a half-dead pool must not raise at shutdown
            log.debug("closing the Celery app failed", exc_info=True)


class Publisher:
    """Thread-safe: the watcher calls reset/submit/set_errors; a thread of its own sends."""

    def __init__(
        self,
        transport: Transport,
        node: str,
        key: str | None = None,
        coalesce_ms: float = 5.0,
        heartbeat_seconds: float = 5.0,
        buffer_limit: int = DEFAULT_BUFFER_LIMIT,
        snapshot_on_reconnect: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.node = node
        self.key = key or None
        self.run_id = str(uuid.uuid4())
        self.coalesce = coalesce_ms / 1000.0
        self.heartbeat = heartbeat_seconds
        self.buffer_limit = buffer_limit
        self.snapshot_on_reconnect = snapshot_on_reconnect
        self.clock = clock
        self.wall = wall
        self.cond = threading.Condition()
        self.seq = 0
        self.namespaces: dict[str, dict[str, Any]] = {}  # the mirror: state as published so far
        self.interfaces: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self.complete = True
        self.pending: dict[tuple[str, str], Change] = {}
        self.has_state = False
        self.need_snapshot = False
        self.head: tuple[int, str, str | None, str] | None = None  # seq, body, signature, type
        self.failures = 0
        self.retry_at = 0.0
        self.last_sent = clock()
        self.last_delta = float("-inf")  # when the last delta was cut (coalescing window)
        self.dropped_changes = 0
        self.sent_counts = {"snapshot": 0, "delta": 0, "heartbeat": 0}
        self.on_sent: Callable[[dict[str, Any]], None] | None = None  # tests and benchmarks
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- input (any thread) ----------------------------------------------------------------------

    def reset(self, inventory: Inventory) -> None:
        """A whole new state (the first scan): the next message is a snapshot of it."""
        data = inventory.to_json()
        with self.cond:
            self.namespaces = {n["key"]: n for n in data["namespaces"]}
            self.interfaces = {i["key"]: i for i in data["interfaces"]}
            self.errors = list(data["errors"])
            self.complete = bool(data.get("complete", True))
            self.pending.clear()
            self.has_state = True
            self.need_snapshot = True
            self.cond.notify_all()

    def submit(self, changes: list[Change]) -> None:
        """Changes in apply order; applied to the mirror now, published within the coalesce window."""
        if not changes:
            return
        with self.cond:
            for change in changes:
                table = self.namespaces if change["kind"] == "namespace" else self.interfaces
                if change["op"] == "upsert":
                    table[change["key"]] = change["data"]
                else:
                    table.pop(change["key"], None)
                if self.need_snapshot:
                    continue  # the snapshot will carry it
                ident = (change["kind"], change["key"])
                self.pending.pop(ident, None)  # the latest change per key wins; keeps the buffer bounded
                self.pending[ident] = change
            if len(self.pending) > self.buffer_limit:
                self.dropped_changes += len(self.pending)
                log.warning("publish buffer overflowed (%d changes): a snapshot will replace them", len(self.pending))
                self.pending.clear()
                self.need_snapshot = True
            self.cond.notify_all()

    def set_errors(self, errors: list[str], complete: bool = True) -> None:
        """Errors and completeness travel only in snapshots (deltas have no field for them)."""
        with self.cond:
            self.errors = list(errors)
            self.complete = complete

    def request_snapshot(self) -> None:
        """Publish a fresh snapshot as soon as possible (resync)."""
        with self.cond:
            self.need_snapshot = True
            self.cond.notify_all()

    # -- the sending side ------------------------------------------------------------------------

    def _cut(self, now: float) -> tuple[float | None, bool]:
        """Under the lock: make the next head message if one is due.

        Returns (seconds until something is due or None for "wait for input", whether a head
        is ready to send).
        """
        if self.failures and now < self.retry_at:
            return self.retry_at - now, False
        if self.head is not None:
            if self.head[3] != "snapshot" or not (self.pending or self.need_snapshot):
                return 0.0, True
            # a snapshot still waiting to go out would be stale: cut it again, same number
            self.seq = self.head[0] - 1
            self.head = None
            self.need_snapshot = True
        if not self.has_state:
            return None, False
        if self.need_snapshot:
            self.need_snapshot = False
            self.pending.clear()
            self._make(
                "snapshot",
                namespaces=list(self.namespaces.values()),
                interfaces=list(self.interfaces.values()),
                errors=list(self.errors),
                complete=self.complete,
            )
            return 0.0, True
        if self.pending:
            # leading edge: a change after a quiet spell goes at once; changes that follow within
            # the window wait for its end and travel together (at most one delta per window)
            due = self.last_delta + self.coalesce
            if now < due:
                return due - now, False
            changes = canonical_order(self.pending.values())
            self.pending.clear()
            self._make("delta", changes=changes)
            self.last_delta = now
            return 0.0, True
        due = self.last_sent + self.heartbeat
        if now < due:
            return due - now, False
        self._make("heartbeat")
        return 0.0, True

    def _make(self, type_: MessageType, **body: Any) -> None:
        self.seq += 1
        message = make_message(type_, self.node, self.run_id, self.seq, self.wall(), **body)
        text = json.dumps(message, separators=(",", ":"))
        self.head = (self.seq, text, sign(text.encode(), self.key) if self.key else None, type_)

    def step(self) -> float | None:
        """Send what is due now; how long until the next thing is due (None: until input)."""
        with self.cond:
            wait, ready = self._cut(self.clock())
            head = self.head
        if not ready or head is None:
            return wait
        return self._send(head)

    def _send(self, head: tuple[int, str, str | None, str]) -> float:
        seq, body, signature, type_ = head
        try:
            self.transport.send(body, signature)
        except Exception as exc:  # any transport failure: keep it, retry with backoff
            with self.cond:
                self.failures += 1
                delay = min(RETRY_MAX, RETRY_MIN * (1 << min(self.failures - 1, 8)))
                self.retry_at = self.clock() + delay
                if self.failures == 1 or self.failures % 20 == 0:
                    log.warning("cannot publish %s seq %d (%s); retrying, still watching", type_, seq, exc)
                if self.failures >= GIVE_UP_AFTER and type_ != "snapshot" and self.head is not None:
                    # A long outage (or a message the receiver keeps refusing): a snapshot of the
                    # state so far takes the stuck message's place and number. Safe either way:
                    # had it arrived, the snapshot equals the state it led to.
                    self.head = None
                    self.seq = seq - 1
                    self.need_snapshot = True
            return delay
        with self.cond:
            self.head = None
            self.last_sent = self.clock()
            self.sent_counts[type_] += 1
            if self.failures:
                log.info("broker reachable again after %d failed attempts", self.failures)
                self.failures = 0
                if self.snapshot_on_reconnect and type_ != "snapshot":
                    self.need_snapshot = True
        if self.on_sent is not None:
            self.on_sent(json.loads(body))
        return 0.0

    def run(self) -> None:
        """Decide and wait under one lock, so a submit can never slip between them."""
        while not self._stop.is_set():
            with self.cond:
                wait, ready = self._cut(self.clock())
                if not ready or self.head is None:
                    if not self._stop.is_set():
                        self.cond.wait(timeout=wait)
                    continue
                head = self.head
            self._send(head)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="nsmap-publisher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self.cond:
            self.cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Tests: wait until nothing is pending or in flight."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cond:
                if self.head is None and not self.pending and not self.need_snapshot:
                    return True
            time.sleep(0.002)
        return False
