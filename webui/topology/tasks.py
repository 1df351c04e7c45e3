"""Celery tasks (routed to queue "ingest" by CELERY_TASK_ROUTES): thin wrappers around the services.

``nsmap.ingest`` is acknowledged late and rejected when its worker dies, so a message in flight
when a worker is killed is delivered again (the ingest is idempotent: a redelivered message is a
replay and changes nothing).

Distributed mode batches: the task puts its message into the node's inbox (a Redis list) and
whichever worker holds the node's inbox lock drains it, applying everything waiting in one
transaction (consecutive deltas merged; webui.topology.ingest.ingest_batch). One message per
transaction could not keep up with a flood of small deltas; a batch catches up at once. A message
that arrives before its predecessor waits in the inbox up to GAP_WAIT seconds; after that the gap
is final and the agent is asked for a snapshot. If a worker dies while draining, the inbox keeps
the messages (they are removed only after commit) and the next message of that node (a heartbeat
at the latest) drains them; the lock expires by itself.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from webui.topology.ingest import ingest, ingest_batch, mark_stale

log = logging.getLogger("nsmap.ingest")

GAP_RETRIES = 3
DB_RETRIES = 30
GAP_WAIT = 0.5  # seconds a message may wait in the inbox for its predecessor
LOCK_MS = 10_000  # a dead drainer's lock expires after this (renewed after every batch)
BATCH_MAX = 500
DRAIN_BUDGET = 2.0  # seconds one task keeps draining, so its own message is acknowledged in time
INBOX = "nsmap:inbox:{node}"
LOCK = "nsmap:inbox-lock:{node}"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")

_client: Any = None


def is_final(eager: bool, retries: int) -> bool:
    """Whether this delivery must decide a gap now (ask for a snapshot) rather than retry."""
    return eager or retries >= GAP_RETRIES


def redis_client() -> Any:
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=30, socket_keepalive=True)
    return _client


def node_of(body: Any) -> str | None:
    """The node a message claims to come from, for routing only (verified later), else None."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return None
    node = data.get("node") if isinstance(data, dict) else None
    return node if isinstance(node, str) and NODE_NAME.fullmatch(node) else None


def drain(node: str, client: Any = None) -> int:
    """Apply what waits in ``node``'s inbox unless another worker is doing it; returns the number
    of messages taken out."""
    client = client or redis_client()
    inbox, lock = INBOX.format(node=node), LOCK.format(node=node)
    token = uuid.uuid4().hex
    taken = 0
    deadline = time.monotonic() + DRAIN_BUDGET
    while client.set(lock, token, nx=True, px=LOCK_MS):
        try:
            taken += _drain_locked(client, inbox, lock, deadline)
        finally:
            client.eval(_RELEASE, 1, lock, token)
        # a message pushed while we released: drain again (within the budget; the node's next
        # message, or nsmap.drain_inboxes, takes what is left)
        if not client.llen(inbox) or time.monotonic() > deadline:
            break
    return taken


def _drain_locked(client: Any, inbox: str, lock: str, deadline: float) -> int:
    taken = 0
    while time.monotonic() <= deadline or taken == 0:
        raw = client.lrange(inbox, 0, BATCH_MAX - 1)
        if not raw:
            return taken
        items = [json.loads(r) for r in raw]  # [body, signature, pushed at]
        oldest_wait = time.time() - min(float(i[2]) for i in items)
        final = oldest_wait >= GAP_WAIT
        _results, leftover = ingest_batch([(i[0], i[1]) for i in items], final=final)
        # committed: take out exactly the items handled (never others' items, should a second
        # drainer ever overlap after a lock expiry); the ones waiting for a predecessor stay
        waiting = set(leftover)
        pipe = client.pipeline()
        for index, item in enumerate(raw):
            if index not in waiting:
                pipe.lrem(inbox, 1, item)
        pipe.pexpire(lock, LOCK_MS)
        pipe.execute()
        taken += len(raw) - len(leftover)
        if leftover and len(leftover) == len(raw):
            time.sleep(0.02)  # only waiting messages: give the missing one a moment
    return taken


@shared_task(
    name="nsmap.ingest",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    Strategy="webui.topology.strategy:guarded",
    max_retries=None,
)
def ingest_task(self, body: str, signature: str | None = None, pushed: bool = False) -> str:
    """Apply one agent message (args as sent by agent.publisher.CeleryTransport)."""
    try:
        if settings.EMBEDDED or not settings.NSMAP_INGEST_BATCH or (node := node_of(body)) is None:
            result = ingest(body, signature, final=is_final(bool(self.request.is_eager), self.request.retries or 0))
            if result.status == "gap":
                raise self.retry(countdown=0.05 * (2 ** min(self.request.retries, 6)))
            return result.status
        client = redis_client()
        if not pushed:
            client.rpush(INBOX.format(node=node), json.dumps([body, signature, time.time()]))
        drain(node, client)
        return "queued"
    except (OperationalError, InterfaceError) as exc:  # the database is away: keep the message
        log.warning("ingest: database unavailable (%s); retrying", exc)
        raise self.retry(
            args=[body, signature], kwargs={"pushed": True}, countdown=1.0, max_retries=DB_RETRIES
        ) from exc
    except Exception as exc:
        if type(exc).__module__.startswith("redis"):  # Redis away: the task comes back later
            log.warning("ingest: redis unavailable (%s); retrying", exc)
            raise self.retry(countdown=1.0, max_retries=DB_RETRIES) from exc
        raise


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
    for key in client.scan_iter(match=INBOX.format(node="*")):
        total += drain(key.decode().split(":", 2)[2], client)
    return total
