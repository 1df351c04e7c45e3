"""Celery tasks (routed to queue "ingest" by CELERY_TASK_ROUTES): thin wrappers around the services.

Distributed mode batches through a per-node inbox (a Redis list of ``[body, signature]``): the
agent pushes every message there and sends ``nsmap.drain(node)`` to wake a worker
(agent.publisher.CeleryTransport); whichever worker holds the node's inbox lock applies
everything waiting in one transaction (consecutive deltas merged; ingest_batch). One message per
transaction could not keep up with a flood of small deltas, and Celery hands a worker one
message at a time; the inbox lets a worker catch up at once. A message that arrives before its
predecessor waits in the inbox up to GAP_WAIT seconds (counted from when this worker first saw
it waiting); after that the gap is final and the agent is asked for a snapshot. Messages leave
the inbox only after commit: if a worker dies while draining, the drain task it held is
delivered again (late acknowledgement) and the lock expires by itself.

``nsmap.ingest(body, signature)`` takes a message as the task's own argument (what older agents
and the tests send): in distributed mode it is put into the inbox and drained the same way; in
embedded mode (eager) it is applied at once. Both tasks are acknowledged late and rejected when
their worker dies, so work in flight is delivered again; the ingest is idempotent (a message
applied twice is a replay and changes nothing).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from agent.inbox import (
    DRAIN_TASK,
    INBOX_KEY,
    INGEST_TASK,
    KICK_KEY,
    LOCK_KEY,
    RELEASE_SCRIPT,
    decode_item,
    encode_item,
    inbox_node,
)
from agent.settings import NODE_NAME_RE
from webui.live import trace
from webui.topology.ingest import ingest, ingest_batch
from webui.topology.liveness import mark_stale

log = logging.getLogger("nsmap.ingest")

GAP_RETRIES = 3
DB_RETRIES = 30
GAP_WAIT = 0.5  # seconds a message may wait in the inbox for its predecessor
LOCK_MS = 10_000  # a dead drainer's lock expires after this (renewed after every batch)
BATCH_MAX = 500
DRAIN_BUDGET = 2.0  # seconds one task keeps draining, so that it is acknowledged in time


_client: Any = None
_waiting_since: dict[bytes, float] = {}  # inbox item -> when this worker first saw it wait


def is_final(eager: bool, retries: int) -> bool:
    """Whether this delivery must decide a gap now (ask for a snapshot) rather than retry."""
    return eager or retries >= GAP_RETRIES


def redis_client() -> Any:
    global _client
    if _client is None:
        import redis

        if settings.REDIS_URL is None:
            raise RuntimeError("the inboxes are in Redis: distributed mode (REDIS_URL) only")
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=30, socket_keepalive=True)
    return _client


def node_of(body: Any) -> str | None:
    """The node a message claims to come from, for routing only (verified later), else None."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return None
    node = data.get("node") if isinstance(data, dict) else None
    return node if isinstance(node, str) and NODE_NAME_RE.fullmatch(node) else None


def drain(node: str, client: Any = None) -> int:
    """Apply what waits in ``node``'s inbox unless another worker is doing it; returns the number
    of messages taken out.

    While a drain runs, the node's wake-up key stays set, so the agent sends no wake-ups for
    what the drain will find anyway. The tail closes the race: after releasing the lock the
    drainer deletes the key and looks once more; a message pushed before the delete is seen
    here, one pushed after it sends a wake-up of its own. A drainer that finds the lock taken
    leaves its messages to the holder, whose tail comes after. Out of time with messages left,
    it sends a wake-up itself.
    """
    client = client or redis_client()
    inbox, lock = INBOX_KEY.format(node=node), LOCK_KEY.format(node=node)
    token = uuid.uuid4().hex
    taken = 0
    deadline = time.monotonic() + DRAIN_BUDGET
    while client.set(lock, token, nx=True, px=LOCK_MS):
        try:
            taken += _drain_locked(client, inbox, lock, deadline)
        finally:
            client.eval(RELEASE_SCRIPT, 1, lock, token)
        if time.monotonic() > deadline:
            if client.llen(inbox):
                drain_task.apply_async(args=[node])
            break
        client.delete(KICK_KEY.format(node=node))
        if not client.llen(inbox):
            break
    return taken


def _drain_locked(client: Any, inbox: str, lock: str, deadline: float) -> int:
    taken = 0
    while time.monotonic() <= deadline or taken == 0:
        raw = client.lrange(inbox, 0, BATCH_MAX - 1)
        if not raw:
            return taken
        now = time.monotonic()
        items = []  # (index in raw, message); a malformed item is logged and taken out
        for index, r in enumerate(raw):
            item = decode_item(r)
            if item is None:
                log.warning("ingest rejected node=? reason=malformed inbox item in %s: %.80r", inbox, r)
            else:
                items.append((index, item))
        final = now - min(_waiting_since.get(r, now) for r in raw) >= GAP_WAIT
        _results, leftover = ingest_batch([item for _index, item in items], final=final)
        # committed: take out exactly the items handled (never others' items, should a second
        # drainer ever overlap after a lock expiry); the ones waiting for a predecessor stay
        waiting = {items[i][0] for i in leftover}
        pipe = client.pipeline()
        for index, item in enumerate(raw):
            if index in waiting:
                _waiting_since.setdefault(item, now)
            else:
                _waiting_since.pop(item, None)
                pipe.lrem(inbox, 1, item)
        if len(_waiting_since) > 10 * BATCH_MAX:  # items another worker took meanwhile
            _waiting_since.clear()
        pipe.pexpire(lock, LOCK_MS)
        pipe.execute()
        taken += len(raw) - len(waiting)
        if waiting and len(waiting) == len(raw):
            time.sleep(0.02)  # only waiting messages: give the missing one a moment
    return taken


def _retrying(task: Any, work: Any, **retry: Any) -> Any:
    """Run ``work()``; when the database or Redis is away, retry the task later (its message,
    already in the inbox, stays there until a commit)."""
    try:
        return work()
    except (OperationalError, InterfaceError) as exc:
        log.warning("ingest: database unavailable (%s); retrying", exc)
        raise task.retry(countdown=1.0, max_retries=DB_RETRIES, **retry) from exc
    except Exception as exc:
        if type(exc).__module__.startswith("redis"):
            log.warning("ingest: redis unavailable (%s); retrying", exc)
            raise task.retry(countdown=1.0, max_retries=DB_RETRIES) from exc
        raise


TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "Strategy": "webui.topology.strategy:guarded",
    "max_retries": None,
}


@shared_task(name=DRAIN_TASK, **TASK_OPTIONS)
def drain_task(self: Task[Any, Any], node: str) -> int:
    """Apply what ``node``'s agent put into its inbox (sent by agent.publisher.CeleryTransport)."""
    trace.begin(task=time.time())
    if not isinstance(node, str) or not NODE_NAME_RE.fullmatch(node):
        log.warning("ingest rejected node=? reason=drain of a malformed node name: %.80r", node)
        return 0
    return _retrying(self, lambda: drain(node))


@shared_task(name=INGEST_TASK, **TASK_OPTIONS)
def ingest_task(self: Task[Any, Any], body: str, signature: str | None = None, pushed: bool = False) -> str:
    """Apply one agent message given as the task's arguments."""
    trace.begin(task=time.time())

    def work() -> str:
        if settings.EMBEDDED or not settings.NSMAP_INGEST_BATCH or (node := node_of(body)) is None:
            result = ingest(body, signature, final=is_final(bool(self.request.is_eager), self.request.retries or 0))
            if result.status == "gap":
                raise self.retry(countdown=0.05 * (2 ** min(self.request.retries, 6)))
            return result.status
        client = redis_client()
        if not pushed:
            client.rpush(INBOX_KEY.format(node=node), encode_item(body, signature))
        drain(node, client)
        return "queued"

    return _retrying(self, work, args=[body, signature], kwargs={"pushed": True})


@shared_task(name="nsmap.mark_stale", ignore_result=True)
def mark_stale_task() -> list[str]:
    """Periodic (celery beat): nodes without a message for NSMAP_STALE_AFTER seconds become stale."""
    return mark_stale()


@shared_task(name="nsmap.drain_inboxes", ignore_result=True)
def drain_inboxes_task() -> int:
    """Periodic (celery beat): drain inboxes a dead worker left behind (normally the node's next
    message does it)."""
    if settings.EMBEDDED:
        return 0
    client = redis_client()
    total = 0
    for key in client.scan_iter(match=INBOX_KEY.format(node="*")):
        total += drain(inbox_node(key), client)
    return total
