"""`manage.py nsmap_bootstrap`: the first run creates the admin and prints its password once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("nsmap_bootstrap", stdout=out)
    return out.getvalue()


def test_it_creates_the_admin_once_and_then_says_nothing() -> None:
    first = _run()
    password = next(line.split(":", 1)[1].strip() for line in first.splitlines() if "password:" in line)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.groups.filter(name="admin").exists()
    assert authenticate(username="admin", password=password) is not None
    assert _run() == "" and _run() == ""
    assert User.objects.filter(is_superuser=True).count() == 1


def test_it_creates_the_role_groups_by_migration() -> None:
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "operator", "admin"}
