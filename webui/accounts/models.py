"""API tokens for scripts and tests (``Authorization: Bearer TOKEN`` or ``?token=`` on the WebSocket).

Only a SHA-256 of the token is stored: tokens are 256-bit random strings, so a plain hash is
enough (no salt or slow hash needed) and lets a request be authenticated with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "nsm_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Token(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="the first characters, to tell tokens apart")
    name = models.CharField(max_length=100, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, user: object, name: str = "") -> tuple[Token, str]:
        """Create a token; returns the row and the token text, which is never retrievable again."""
        text = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, key_hash=hash_token(text), prefix=text[:10], name=name), text
