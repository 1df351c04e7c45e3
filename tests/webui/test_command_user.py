"""`manage.py nsmap_user NAME --role ROLE`: a user who can sign in, its password alone on the last line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from webui.dashboard.roles import user_roles

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("nsmap_user", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()[-1]


def _groups(name: str) -> set[str]:
    return set(User.objects.get(username=name).groups.values_list("name", flat=True))


def test_it_creates_an_admin_who_signs_in_with_the_printed_password(client) -> None:
    password = _run("alice", "--role", "admin")
    alice = User.objects.get(username="alice")
    assert alice.is_superuser and alice.is_staff and _groups("alice") == {"admin"}
    response = client.post("/login/", {"username": "alice", "password": password})
    assert response.status_code == 302, f"sign-in with the printed password failed: {response.status_code}"
    assert client.get("/api/v1/nodes/").status_code == 200
    assert client.get("/").status_code == 200


def test_it_makes_a_viewer_unless_a_role_is_given() -> None:
    _run("bob")
    bob = User.objects.get(username="bob")
    assert user_roles(bob) == ["viewer"] and not bob.is_staff and not bob.is_superuser


def test_it_refuses_an_existing_user_without_reset_and_changes_nothing() -> None:
    first = _run("carol", "--role", "operator")
    with pytest.raises(CommandError, match="--reset"):
        _run("carol", "--role", "admin")
    carol = User.objects.get(username="carol")
    assert carol.check_password(first) and _groups("carol") == {"operator"} and not carol.is_superuser


def test_it_resets_the_password_and_replaces_the_role_with_reset() -> None:
    first = _run("dave", "--role", "admin")
    second = _run("dave", "--reset", "--role", "viewer")
    dave = User.objects.get(username="dave")
    assert second != first and dave.check_password(second) and not dave.check_password(first)
    assert _groups("dave") == {"viewer"} and not dave.is_superuser and not dave.is_staff


def test_it_keeps_the_role_when_only_the_password_is_reset() -> None:
    _run("erin", "--role", "operator")
    password = _run("erin", "--reset")
    assert User.objects.get(username="erin").check_password(password) and _groups("erin") == {"operator"}


@pytest.mark.parametrize("name", ["", "   ", "has space", "x" * 151, "semi;colon"])
def test_it_refuses_a_bad_name_and_creates_nobody(name: str) -> None:
    with pytest.raises(CommandError):
        _run(name)
    assert not User.objects.exists()
