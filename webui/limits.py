"""Daphne's protocols with nsmap's limits (installed by ``manage.py nsmap_serve``).

HTTP: Twisted cuts a request line over 16 KiB (LineReceiver.MAX_LENGTH) by closing the
connection, before anything reaches ASGI: the client sees an empty reply. Here it gets 414 URI
Too Long (431 for a header line), then the connection is closed.

WebSocket:

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
from daphne.http_protocol import HTTPFactory
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings
from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol

log = logging.getLogger("nsmap.live")


def unsent(transport: Any) -> int:
    """Bytes a Twisted TCP transport holds that the peer has not taken yet (0 if unknown)."""
    pending = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
    return pending + getattr(transport, "_tempDataLen", 0)


class LimitedWebSocketProtocol(WebSocketProtocol):
    maxMessagePayloadSize: int  # autobahn's limit on one message (0: none)

    def sendMessage(self, payload: bytes, *args: Any, **kwargs: Any) -> None:
        waiting = unsent(self.transport)
        if waiting > settings.NSMAP_WS_MAX_BUFFER:
            log.warning("dropping WebSocket %s: %d bytes unread (client stopped reading)", self.client_addr, waiting)
            self.dropConnection(abort=True)
            return
        inbound: int = self.maxMessagePayloadSize
        self.maxMessagePayloadSize = 0
        try:
            super().sendMessage(payload, *args, **kwargs)
        finally:
            self.maxMessagePayloadSize = inbound


class LimitedWebSocketFactory(WebSocketFactory):
    protocol = LimitedWebSocketProtocol


def _refusal(status: str) -> bytes:
    body = f"{status}\n".encode()
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + body


class LimitedHTTPChannel(HTTPChannel):
    def lineLengthExceeded(self, line: bytes) -> None:
        first = getattr(self, "_HTTPChannel__first_line", 1)
        transport: Any = self.transport  # zope's ITransport declares write() without self
        transport.write(_refusal("414 URI Too Long" if first else "431 Request Header Fields Too Large"))
        transport.loseConnection()


class LimitedHTTPFactory(HTTPFactory):
    def protocol(self) -> Any:
        return _GenericHTTPChannelProtocol(LimitedHTTPChannel())


def install() -> None:
    """Make daphne.server.Server build its factories from this module (call before run())."""
    daphne_server.WebSocketFactory = LimitedWebSocketFactory
    daphne_server.HTTPFactory = LimitedHTTPFactory
