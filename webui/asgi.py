"""ASGI entry point (Daphne): HTTP goes to Django, /ws/topology/ to the live consumer.

WebSocket authentication (session cookie, Bearer header or ?token=) happens in
webui.accounts.ws.TokenOrSessionAuthMiddleware; the consumer closes an anonymous connection.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")
django_asgi_app = get_asgi_application()  # sets Django up before the consumers import models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from webui.accounts.ws import TokenOrSessionAuthMiddlewareStack  # noqa: E402
from webui.live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TokenOrSessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
