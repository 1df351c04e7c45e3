"""WebSocket routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import path

from webui.live.consumers import TopologyConsumer

if TYPE_CHECKING:
    from channels.routing import URLRouter, _ExtendedURLPattern

# channels' URLRouter routes ASGI applications through Django's path(), which django-stubs types
# for views only: hence the ignore (the list's type is what URLRouter takes).
websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    path("ws/topology/", TopologyConsumer.as_asgi()),  # type: ignore[arg-type, list-item]
]
