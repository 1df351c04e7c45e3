"""An open WebSocket is only as good as the credentials it was opened with: sign-out,
deactivation, a password change, a deleted token or a role change close it within a second,
and a socket whose credentials went away without a signal is refused its next resync."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client

from tests.webui.ws_support import close_code, open_socket, session_cookie
from webui.accounts.models import Token
from webui.live.consumers import CLOSE_ROLES_CHANGED, CLOSE_UNAUTHENTICATED

pytestmark = pytest.mark.django_db(transaction=True)


def session_headers(client: Client, user: User) -> list[tuple[bytes, bytes]]:
    return [(b"cookie", session_cookie(client, user))]


def scenario(
    headers_or_path: Callable[[], tuple[str, list[tuple[bytes, bytes]]]],
    change: Callable[[], Any],
    expected: int | None,
) -> None:
    path, headers = headers_or_path()

    async def run() -> None:
        comm = await open_socket(path, headers)
        await sync_to_async(change)()
        if expected is None:  # still open after a second: it answers a ping
            await asyncio.sleep(1.0)
            await comm.send_json_to({"type": "ping"})
            while (await comm.receive_json_from(timeout=5))["type"] != "pong":
                pass
            await comm.disconnect()
            return
        code = await close_code(comm)
        await comm.disconnect()
        assert code == expected, f"socket close code {code}, expected {expected} within a second"

    async_to_sync(run)()


def test_it_closes_the_socket_of_a_session_that_signs_out(viewer: User) -> None:
    client = Client()
    headers = session_headers(client, viewer)
    scenario(lambda: ("/ws/topology/", headers), lambda: client.post("/logout/"), CLOSE_UNAUTHENTICATED)


def test_it_closes_every_socket_of_a_deactivated_user(viewer: User, api_token: str) -> None:
    def deactivate() -> None:
        viewer.is_active = False
        viewer.save()

    scenario(lambda: (f"/ws/topology/?token={api_token}", []), deactivate, CLOSE_UNAUTHENTICATED)
    viewer.is_active = True
    viewer.save()
    headers = session_headers(Client(), viewer)
    scenario(lambda: ("/ws/topology/", headers), deactivate, CLOSE_UNAUTHENTICATED)


def test_it_closes_the_session_socket_after_a_password_change(viewer: User) -> None:
    headers = session_headers(Client(), viewer)

    def change_password() -> None:
        viewer.set_password("pw-viewer-2-new")
        viewer.save()

    scenario(lambda: ("/ws/topology/", headers), change_password, CLOSE_UNAUTHENTICATED)


def test_it_closes_the_socket_of_a_deleted_token(viewer: User, api_token: str) -> None:
    scenario(
        lambda: (f"/ws/topology/?token={api_token}", []),
        lambda: Token.objects.filter(user=viewer).delete(),
        CLOSE_UNAUTHENTICATED,
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda user: user.groups.clear(),
        lambda user: user.groups.add(Group.objects.get_or_create(name="admin")[0]),
        lambda user: Group.objects.get(name="viewer").user_set.remove(user),
    ],
    ids=["roles-cleared", "role-added", "removed-from-group"],
)
def test_it_closes_the_socket_when_the_roles_change(
    viewer: User, api_token: str, change: Callable[[User], Any]
) -> None:
    scenario(lambda: (f"/ws/topology/?token={api_token}", []), lambda: change(viewer), CLOSE_ROLES_CHANGED)


def test_it_keeps_the_socket_when_another_user_changes(viewer: User, api_token: str) -> None:
    other = User.objects.create_user("other1", password="pw-other-1")

    def change_other() -> None:
        other.is_active = False
        other.save()

    scenario(lambda: (f"/ws/topology/?token={api_token}", []), change_other, None)


def test_it_refuses_a_resync_once_the_credentials_are_gone_without_a_signal(viewer: User, api_token: str) -> None:
    async def run() -> None:
        comm = await open_socket(f"/ws/topology/?token={api_token}", [])

        def delete_behind_its_back() -> None:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM accounts_token")

        await sync_to_async(delete_behind_its_back)()
        await comm.send_json_to({"type": "resync"})
        code = await close_code(comm, within=2.0)
        await comm.disconnect()
        assert code == CLOSE_UNAUTHENTICATED, f"a resync was answered after the token was deleted (close {code})"

    async_to_sync(run)()
