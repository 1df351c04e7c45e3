"""WebSocket authentication: session cookie, ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``.

A token wins over the session. A session is only honoured when the Origin header (if any) names
an allowed host, so another site's page cannot open the socket with the user's cookie; token
clients (scripts, tests) need no Origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

from webui.accounts.auth import bearer_token, user_for_token


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def token_from_scope(scope: dict[str, Any]) -> str | None:
    token = bearer_token(_header(scope, b"authorization"))
    if token:
        return token
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    values = query.get("token")
    return values[0] if values else None


def origin_allowed(origin: str | None) -> bool:
    if origin is None:
        return True
    domain, _port = split_domain_port(urlsplit(origin).netloc)  # ALLOWED_HOSTS names hosts, not ports
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


class TokenAuthMiddleware:
    """Sets ``user`` and ``auth_method`` in a copy of the scope for the inner application.

    A plain ASGI middleware rather than channels.middleware.BaseMiddleware (which does only the
    copy and the call): its stubs type the scope as a TypedDict without room for ``auth_method``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope)
        token = token_from_scope(scope)
        if token:
            user = await database_sync_to_async(user_for_token)(token)
            scope["user"] = user or AnonymousUser()
            scope["auth_method"] = "token"
        elif not origin_allowed(_header(scope, b"origin")):
            scope["user"] = AnonymousUser()
            scope["auth_method"] = "refused-origin"
        else:
            scope["auth_method"] = "session"
        return await self.inner(scope, receive, send)


def TokenOrSessionAuthMiddlewareStack(inner: Any) -> Any:
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
