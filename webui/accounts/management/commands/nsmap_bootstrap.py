"""`manage.py nsmap_bootstrap` (run by `make run`): create the first admin, once.

On the first run (no superuser yet) it creates user ``admin`` with a random password and prints
the password once. Every later run prints nothing. Run it after ``migrate``.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction


class Command(BaseCommand):
    help = "Create the admin user on the first run and print its one-time password; silent afterwards."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=os.environ.get("NSMAP_ADMIN_USER", "admin"))

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        users = get_user_model()
        with transaction.atomic():
            if users.objects.filter(is_superuser=True).exists():
                return
            password = secrets.token_urlsafe(12)
            user = users.objects.filter(username=username).first() or users(username=username)
            user.is_superuser = True
            user.is_staff = True
            user.is_active = True
            user.set_password(password)
            user.save()
            group, _ = Group.objects.get_or_create(name="admin")
            user.groups.add(group)
        port = os.environ.get("PORT", "8000")
        self.stdout.write(
            f"nsmap: created the admin user (shown once, keep it):\n"
            f"  user:     {username}\n"
            f"  password: {password}\n"
            f"  sign in at http://127.0.0.1:{port}/login/"
        )
