"""WebSocket routes."""

from django.urls import path

from webui.live.consumers import TopologyConsumer

websocket_urlpatterns = [path("ws/topology/", TopologyConsumer.as_asgi())]
