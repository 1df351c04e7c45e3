"""The user name rule of the account commands (nsmap_user, nsmap_token): one message for a bad name."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def clean_username(raw: str) -> str:
    """``raw`` stripped, or CommandError when Django's user model would not take it as a name."""
    username = raw.strip()
    if not username or len(username) > 150:
        raise CommandError("give a user name of 1-150 characters")
    try:
        get_user_model().username_validator(username)
    except ValidationError as exc:
        raise CommandError(f"user name {username!r}: {' '.join(exc.messages)}") from None
    return username
