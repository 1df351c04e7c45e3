"""Who is asking: a session, or an API token (``Authorization: Bearer TOKEN``).

Used by the REST views (``BearerTokenAuthentication``, in settings.REST_FRAMEWORK next to DRF's
session authentication) and the WebSocket middleware (webui.accounts.ws). No anonymous access
anywhere: the API answers 401 JSON, pages redirect to /login/.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

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


class BearerTokenAuthentication(BaseAuthentication):
    """DRF: ``Authorization: Bearer TOKEN`` with a token of webui.accounts.models.Token. Any
    Authorization header that is not a valid token is refused (401), not passed on to the
    session: a script with a revoked token learns it at once."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        user = user_for_token(bearer_token(header))
        if user is None:
            raise AuthenticationFailed("invalid or unknown API token")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        """Makes DRF answer 401 (not 403) to a request without credentials."""
        return 'Bearer realm="nsmap"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema names BearerTokenAuthentication (tokens: manage.py nsmap_token)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "an API token from `manage.py nsmap_token USER`"}


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
