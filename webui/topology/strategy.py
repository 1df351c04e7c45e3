"""A Celery task strategy that survives malformed task messages.

Any item on the ``ingest`` list that is a valid kombu envelope but whose task body is not
``[args, kwargs, embed]`` makes Celery's default strategy raise inside the worker's event loop,
which ends the worker; with late acknowledgement the message comes back after the visibility
timeout and ends the next worker too. Raising InvalidTaskError instead makes Celery reject and
log the message and carry on (tests/distributed/test_dist_bad_payloads.py pushes such items).
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import InvalidTaskError
from celery.worker.strategy import default

log = logging.getLogger("nsmap.ingest")


def guarded(task: Any, app: Any, consumer: Any, **kwargs: Any) -> Any:
    """Celery's default strategy; a malformed task message is rejected, not fatal."""
    handle = default(task, app, consumer, **kwargs)

    def task_message_handler(message: Any, body: Any, ack: Any, reject: Any, callbacks: Any, **kw: Any) -> Any:
        try:
            return handle(message, body, ack, reject, callbacks, **kw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("ingest rejected node=? reason=malformed task message: %r", exc)
            raise InvalidTaskError(f"malformed task message: {exc!r}") from exc

    return task_message_handler
