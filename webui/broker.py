"""The workers' Redis transport: kombu's, except that an undecodable item on a queue is dropped
and logged instead of ending the worker (CELERY_BROKER_TRANSPORT in distributed mode).

kombu takes an item off the queue list (BRPOP) and decodes it inside the worker's event loop:
an item that is not JSON, or whose body is not valid base64, or that lacks a message's fields
raises there, which Celery treats as an "Unrecoverable error" and exits. Anyone who can write to
Redis could stop every worker that way, one after another. The item has already left the list
when decoding fails and is not yet in the unacknowledged set, so catching the error here
rejects it for good: logged, gone, never redelivered. A well-formed envelope with a bad task
body is Celery's to reject (webui.topology.strategy).
"""

from __future__ import annotations

import binascii
import logging
from typing import Any

from kombu.transport import redis

log = logging.getLogger("nsmap.ingest")

UNDECODABLE = (ValueError, TypeError, KeyError, AttributeError, binascii.Error, UnicodeError)


class Channel(redis.Channel):
    def _brpop_read(self, **options: Any) -> bool:
        try:
            # kombu-stubs leave out what kombu/transport/redis.py's Channel sets at runtime (the
            # private _brpop_read this overrides, connection_errors from its transport)
            return super()._brpop_read(**options)  # type: ignore[misc]
        except self.connection_errors:  # type: ignore[attr-defined]
            raise  # kombu reconnects
        except UNDECODABLE as exc:
            log.warning("ingest rejected node=? reason=undecodable broker message: %.200r", exc)
            return True  # handled: the item is gone, the loop goes on


class Transport(redis.Transport):
    Channel = Channel
