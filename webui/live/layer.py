"""The embedded mode's channel layer: channels' in-memory layer with less work per message.

With 50 viewers and 100 kernel changes a second (bench/load.py) the layer hands out 5,000
messages a second on the event loop, and two things channels does per message add up:
- it sweeps every channel and group for expired messages on each ``receive`` and ``group_send``;
  messages expire after a minute, so sweeping once a second changes nothing a client could see;
- ``group_send`` makes a task per member and waits for them with ``as_completed``, although
  ``send`` never waits (a full channel raises at once): the members are sent to in turn.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

SWEEP_EVERY = 1.0  # seconds


class LeanInMemoryChannelLayer(InMemoryChannelLayer):
    _swept = float("-inf")

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept >= SWEEP_EVERY:
            self._swept = now
            super()._clean_expired()  # type: ignore[misc]  # untyped in channels

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):  # as channels does; that socket's watchdog resyncs it
                await self.send(channel, message)
