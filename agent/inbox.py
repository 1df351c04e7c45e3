"""Distributed mode's per-node inbox, the one contract between the agent's CeleryTransport
(agent/publisher.py) and the server's workers (webui/topology/tasks.py): Redis key names, the
item format, the Lua scripts and the Celery task names. No Django: the agent imports it.

The agent pushes each message to its node's inbox and wakes a worker with DRAIN_TASK unless a
wake-up is already pending (KICK_KEY, set by the same script as the push). A worker drains an
inbox only while it holds LOCK_KEY (SET NX PX with a token of its own, released by
RELEASE_SCRIPT only if the token is still its own), then deletes KICK_KEY so that the next
message wakes a worker again.
"""

from __future__ import annotations

import json

INGEST_TASK = "nsmap.ingest"  # a message as the task's own arguments (older agents, tests)
DRAIN_TASK = "nsmap.drain"  # argument: the node whose inbox to drain
INGEST_QUEUE = "ingest"

INBOX_KEY = "nsmap:inbox:{node}"  # a list of items, oldest first (RPUSH)
KICK_KEY = "nsmap:inbox-kick:{node}"  # set while a wake-up is pending or a drain runs
LOCK_KEY = "nsmap:inbox-lock:{node}"  # held by the one worker draining the inbox
KICK_TTL_MS = 1000  # a lost wake-up delays the inbox at most this long

# KEYS: inbox, kick; ARGV: item, KICK_TTL_MS. RPUSH the item; 1 when no wake-up is pending (the
# caller sends one), else 0. One round trip.
PUSH_SCRIPT = """
redis.call('RPUSH', KEYS[1], ARGV[1])
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
# KEYS: lock; ARGV: the holder's token. Deletes the lock only if it is still the holder's (it may
# have expired and been taken by another worker).
RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def encode_item(body: str, signature: str | None) -> str:
    """An inbox item: the JSON array ``[body, signature]``."""
    return json.dumps([body, signature], separators=(",", ":"))


def decode_item(raw: bytes | str) -> tuple[str, str | None] | None:
    """(body, signature) of an inbox item, or None when it is not one."""
    try:
        item = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(item, list) or len(item) != 2:
        return None
    body, signature = item
    if not isinstance(body, str) or not (signature is None or isinstance(signature, str)):
        return None
    return body, signature


def inbox_node(key: bytes | str) -> str:
    """The node of an inbox key (as SCAN over ``INBOX_KEY.format(node="*")`` returns it)."""
    text = key.decode() if isinstance(key, bytes) else key
    return text.removeprefix(INBOX_KEY.format(node=""))
