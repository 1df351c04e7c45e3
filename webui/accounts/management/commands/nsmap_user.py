"""`manage.py nsmap_user NAME [--role viewer|operator|admin] [--reset]`: a user who can sign in.

Prints a generated password once, alone on the last line (scripts take ``tail -n 1``), so that no
password is typed into a shell history. ``--role admin`` makes the user a superuser too, like the
admin `nsmap_bootstrap` creates, so that it can also use /admin/ (tokens, users). An existing user
is changed only with ``--reset``: a mistyped name never takes over someone's account.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from webui.accounts.management.names import clean_username
from webui.dashboard.roles import ROLES


class Command(BaseCommand):
    help = "Create a user with a role and print a generated password once (last line); --reset for an existing user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, help="the user's role (new users: viewer unless given)")
        parser.add_argument("--reset", action="store_true", help="give an existing user a new password (and --role)")

    def handle(self, *args: Any, username: str, role: str | None, reset: bool, **options: Any) -> None:
        users = get_user_model()
        username = clean_username(username)
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user = users.objects.select_for_update().filter(username=username).first()
            created = user is None
            if user is None:
                user = users(username=username)
                role = role or "viewer"
            elif not reset:
                raise CommandError(f"user {username} exists; add --reset to give it a new password")
            user.set_password(password)
            user.is_active = True
            if role is not None:
                user.is_superuser = user.is_staff = role == "admin"
            user.save()
            if role is not None:
                user.groups.remove(*Group.objects.filter(name__in=ROLES))
                user.groups.add(Group.objects.get_or_create(name=role)[0])
        what = f"created user {username} (role {role})" if created else f"user {username}: new password"
        if not created and role is not None:
            what += f", role {role}"
        self.stderr.write(f"{what}; sign in at /login/ with this password (shown once):")
        self.stdout.write(password)
