"""Sign-in throttling with django-axes: after AXES_FAILURE_LIMIT failures per account or per
address within AXES_COOLOFF_TIME, both sign-in pages (/login/ and /admin/login/) answer
HTTP 429 with Retry-After. ``manage.py axes_reset`` (or axes_reset_username / axes_reset_ip)
unlocks."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse


class ThrottledSignIn(AxesStandaloneBackend):
    """Axes' lock-out check for sign-ins that come with a request. ``authenticate()`` without a
    request is a management command or a test helper, not a sign-in from outside: nothing to
    count (axes would raise)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kw: Any
    ) -> AbstractBaseUser | None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kw)


def lockout_response(request: HttpRequest, original: HttpResponse | None, credentials: Any = None) -> HttpResponse:
    """429 with Retry-After (the cool-off), the same plain text on both sign-in pages."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = HttpResponse(
        f"Too many failed sign-ins. Try again in {seconds // 60} minutes.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response
