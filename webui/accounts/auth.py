"""Who is asking: a session, or an API token (``Authorization: Bearer TOKEN``).

Used by the REST views (``api_login_required``) and the WebSocket middleware (webui.accounts.ws).
No anonymous access anywhere: the API answers 401 JSON, pages redirect to /login/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from webui.accounts.models import Token, hash_token

LAST_USED_EVERY = timedelta(minutes=1)  # write last_used at most this often per token


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def user_for_token(token: str | None) -> Any | None:
    """The active user owning ``token``, or None (unknown token, inactive user)."""
    if not token or len(token) > 200:
        return None
    row = Token.objects.select_related("user").filter(key_hash=hash_token(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used is None or now - row.last_used > LAST_USED_EVERY:
        Token.objects.filter(pk=row.pk).update(last_used=now)
    return row.user


def unauthorized(message: str = "authentication required: sign in or send Authorization: Bearer TOKEN") -> JsonResponse:
    response = JsonResponse({"error": message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="nsmap"'
    return response


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """REST views: a signed-in session or a valid Bearer token, else 401 JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        header = request.headers.get("Authorization")
        if header is not None:
            user = user_for_token(bearer_token(header))
            if user is None:
                return unauthorized("invalid or unknown API token")
            request.user = user
        elif not request.user.is_authenticated:
            return unauthorized()
        return view(request, *args, **kwargs)

    return wrapper


def ensure_user(username: str) -> tuple[Any, bool]:
    """The user called ``username``, created without a usable password when new."""
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = users(username=username)
    user.set_unusable_password()
    user.save()
    return user, True
