"""`manage.py nsmap_token USER`: issue an API token (creating the user if new) and print it.

The token is printed alone on the last line so that scripts can take ``tail -n 1``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from webui.accounts.auth import ensure_user
from webui.accounts.management.names import clean_username
from webui.accounts.models import Token
from webui.dashboard.roles import ROLES


class Command(BaseCommand):
    help = "Create an API token for USER (and the user, with the viewer role, if new); prints the token last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, help="add the user to this role group")
        parser.add_argument("--name", default="", help="a note to tell tokens apart")

    def handle(self, *args: Any, username: str, role: str | None, name: str, **options: Any) -> None:
        username = clean_username(username)
        with transaction.atomic():
            user, created = ensure_user(username)
            if created or role:
                group, _ = Group.objects.get_or_create(name=role or "viewer")
                user.groups.add(group)
            _, text = Token.issue(user, name=name)
        if created:
            self.stderr.write(f"created user {username} (role {role or 'viewer'}, no password)")
        self.stdout.write(text)
