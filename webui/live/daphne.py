"""Daphne's WebSocket protocol with nsmap's limits (installed by ``manage.py nsmap_serve``).

Daphne (through autobahn) applies one payload limit to what it receives and what it sends, and
the first graph of a large host is several MB: so the limit is set to NSMAP_WS_MAX_INBOUND for
what a client sends, and lifted while sending. A client that stops reading makes Twisted buffer
everything sent to it: once more than NSMAP_WS_MAX_BUFFER bytes wait, the connection is dropped
instead (the browser reconnects and gets the whole graph). The consumer checks the inbound size
too (webui/live/consumers.py), for servers started without this module (the daphne CLI).
"""

from __future__ import annotations

import logging
from typing import Any

from daphne import server as daphne_server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings

log = logging.getLogger("nsmap.live")


def unsent(transport: Any) -> int:
    """Bytes a Twisted TCP transport holds that the peer has not taken yet (0 if unknown)."""
    pending = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
    return pending + getattr(transport, "_tempDataLen", 0)


class LimitedWebSocketProtocol(WebSocketProtocol):  # type: ignore[misc]
    def sendMessage(self, payload: bytes, *args: Any, **kwargs: Any) -> None:
        waiting = unsent(self.transport)
        if waiting > settings.NSMAP_WS_MAX_BUFFER:
            log.warning("dropping WebSocket %s: %d bytes unread (client stopped reading)", self.client_addr, waiting)
            self.dropConnection(abort=True)
            return
        inbound, self.maxMessagePayloadSize = self.maxMessagePayloadSize, 0
        try:
            super().sendMessage(payload, *args, **kwargs)
        finally:
            self.maxMessagePayloadSize = inbound


class LimitedWebSocketFactory(WebSocketFactory):  # type: ignore[misc]
    protocol = LimitedWebSocketProtocol


def install() -> None:
    """Make daphne.server.Server build its WebSocket factory from this module (before run())."""
    daphne_server.WebSocketFactory = LimitedWebSocketFactory
