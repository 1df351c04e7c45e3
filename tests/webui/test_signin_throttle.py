"""Sign-in is throttled: after 10 failures per account or per address within 15 minutes both
sign-in pages answer 429 with Retry-After, even to the right password; `manage.py axes_reset`
unlocks."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PAGES = ["/login/", "/admin/login/"]


@pytest.fixture
def admin_user(db, settings) -> User:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast: many attempts
    return User.objects.create_superuser("boss", password="pw-boss-right-1")


def sign_in(client, page: str, username: str, password: str, address: str = "192.0.2.10"):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("page", PAGES)
def test_it_locks_an_account_after_ten_failures(client, admin_user, page) -> None:
    for attempt in range(9):
        assert sign_in(client, page, "boss", f"wrong-{attempt}", f"192.0.2.{attempt}").status_code == 200
    assert sign_in(client, page, "boss", "wrong-again", "192.0.2.50").status_code == 429
    response = sign_in(client, page, "boss", "pw-boss-right-1", "192.0.2.51")
    assert response.status_code == 429, "the right password signed in after ten failures"
    assert int(response["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("page", PAGES)
def test_it_locks_an_address_after_ten_failures_on_any_accounts(client, admin_user, page) -> None:
    for attempt in range(10):
        sign_in(client, page, f"guess{attempt}", "wrong")
    response = sign_in(client, page, "boss", "pw-boss-right-1")
    assert response.status_code == 429, "ten failures from one address did not lock it"
    assert response["Retry-After"]
    assert sign_in(client, page, "boss", "pw-boss-right-1", "198.51.100.7").status_code == 302


def test_it_signs_in_after_nine_failures(client, admin_user) -> None:
    for attempt in range(9):
        sign_in(client, "/login/", "boss", f"wrong-{attempt}")
    assert sign_in(client, "/login/", "boss", "pw-boss-right-1").status_code == 302


def test_it_unlocks_with_the_reset_command(client, admin_user) -> None:
    for attempt in range(10):
        sign_in(client, "/login/", "boss", f"wrong-{attempt}")
    assert sign_in(client, "/login/", "boss", "pw-boss-right-1").status_code == 429
    call_command("axes_reset", verbosity=0)
    assert sign_in(client, "/login/", "boss", "pw-boss-right-1").status_code == 302
