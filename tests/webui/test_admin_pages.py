"""The admin shows observed state and the change log read-only; viewers cannot get in."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.factories import FakeAgent, make_inventory

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/topology/node/",
    "/admin/topology/interface/",
    "/admin/changelog/changerecord/",
    "/admin/accounts/token/",
]


def test_it_shows_read_only_pages_to_an_admin(client, ingest, agent: FakeAgent) -> None:
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    client.force_login(User.objects.create_superuser("root1", password="x" * 12))
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        assert agent.key not in response.content.decode()
    assert client.get("/admin/changelog/changerecord/add/").status_code == 403


def test_it_keeps_viewers_out(client, viewer) -> None:
    client.force_login(viewer)
    for page in PAGES:
        assert client.get(page).status_code == 302
