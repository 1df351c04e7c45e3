"""WebSocket authentication: session cookie, ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``.

A token wins over the session. A session is only honoured when the Origin header (if any) is
this server's own origin (scheme, host and port) or a trusted one, so another site's page cannot
open the socket with the user's cookie; token clients (scripts, tests) need no Origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare

from webui.accounts.auth import bearer_token, user_for_token
from webui.accounts.models import Token, hash_token
from webui.dashboard.roles import user_roles


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


DEFAULT_PORTS = {"http": "80", "https": "443"}


def _origin(scheme: str, netloc: str) -> tuple[str, str, str] | None:
    """(scheme, host, port) with the default port made explicit; None if it is not a web origin."""
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS or not netloc or "@" in netloc:
        return None
    host, port = split_domain_port(netloc)
    if not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def origin_allowed(origin: str | None, scope: dict[str, Any]) -> bool:
    """The page that opens the socket must be this server's own (scheme, host and port of the
    request it was sent to, the host one of ALLOWED_HOSTS) or one of CSRF_TRUSTED_ORIGINS (a
    proxy that ends TLS). No Origin: not a browser, so no other site's page either."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    claimed = _origin(parts.scheme, parts.netloc)
    if claimed is None:
        return False
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        t = urlsplit(trusted)
        if _origin(t.scheme, t.netloc) == claimed:
            return True
    host = _header(scope, b"host")
    if not host:
        return False
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    own = _origin(scheme, host)
    return own is not None and own == claimed and validate_host(own[1], settings.ALLOWED_HOSTS)


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
            scope["token_hash"] = hash_token(token)
        elif not origin_allowed(_header(scope, b"origin"), scope):
            scope["user"] = AnonymousUser()
            scope["auth_method"] = "refused-origin"
        else:
            scope["auth_method"] = "session"
        return await self.inner(scope, receive, send)


def user_group(user_id: int) -> str:
    """The channel group of one user's open sockets (told to re-check by webui.accounts.signals)."""
    return f"user.{user_id}"


def still_allowed(scope: Mapping[str, Any]) -> tuple[str, ...] | None:
    """What an open socket's credentials allow now: the user's roles, or None when they no
    longer hold (user deleted or deactivated; token deleted; session signed out, expired or
    made stale by a password change). Reads the database: call it from a thread."""
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return None
    fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    if fresh is None:
        return None
    if scope.get("auth_method") == "token":
        if not Token.objects.filter(key_hash=scope.get("token_hash"), user=fresh).exists():
            return None
    else:
        session: SessionBase | None = scope.get("session")
        key = session.session_key if session is not None else None
        if not key:
            return None
        stored = import_module(settings.SESSION_ENGINE).SessionStore(key).load()  # expired or deleted: empty
        if str(stored.get(SESSION_KEY)) != str(fresh.pk):
            return None
        if not constant_time_compare(stored.get(HASH_SESSION_KEY, ""), fresh.get_session_auth_hash()):
            return None
    return tuple(user_roles(fresh))


def TokenOrSessionAuthMiddlewareStack(inner: Any) -> Any:
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
