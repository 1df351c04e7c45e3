"""`manage.py nsmap_token USER`: a working token alone on the last line; the user made if new."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from webui.accounts.models import Token, hash_token

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("nsmap_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_creates_the_user_and_prints_a_token_that_works(client) -> None:
    output = _run("alice")
    token = output.strip().splitlines()[-1]
    assert token.startswith("nsm_") and " " not in token
    user = User.objects.get(username="alice")
    assert not user.has_usable_password() and list(user.groups.values_list("name", flat=True)) == ["viewer"]
    assert Token.objects.get(user=user).key_hash == hash_token(token)
    assert token not in str(list(Token.objects.values()))  # only the hash is stored
    assert client.get("/api/v1/nodes/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_it_adds_a_token_for_an_existing_user_and_keeps_the_old_one(client) -> None:
    first = _run("bob").strip().splitlines()[-1]
    second = _run("bob", "--role", "operator").strip().splitlines()[-1]
    assert first != second and Token.objects.filter(user__username="bob").count() == 2
    assert set(User.objects.get(username="bob").groups.values_list("name", flat=True)) == {"viewer", "operator"}
    for token in (first, second):
        assert client.get("/api/v1/nodes/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_it_refuses_an_empty_name() -> None:
    with pytest.raises(CommandError):
        _run("  ")


def test_it_refuses_a_name_the_user_model_would_not_take_and_creates_nobody() -> None:
    with pytest.raises(CommandError, match="user name"):
        _run("has space")
    assert not User.objects.exists()
