"""No anonymous access: the API answers 401 JSON; sessions and Bearer tokens are accepted."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/topology/", "/api/v1/nodes/", "/api/v1/changes/"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_it_answers_401_json_to_anonymous_requests(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json" and "error" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer nsm_not-a-token", "Bearer ", "Basic dXNlcjpwdw==", "Token abc"])
def test_it_refuses_a_bad_authorization_header(client, header: str) -> None:
    response = client.get("/api/v1/nodes/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


@pytest.mark.parametrize("path", ENDPOINTS)
def test_it_accepts_a_bearer_token(api, path: str) -> None:
    assert api.get(path).status_code == 200


def test_it_accepts_a_session(client, viewer) -> None:
    assert client.login(username="viewer1", password="pw-viewer-1")
    assert client.get("/api/v1/nodes/").status_code == 200


def test_it_refuses_the_token_of_an_inactive_user(api, viewer) -> None:
    viewer.is_active = False
    viewer.save()
    assert api.get("/api/v1/nodes/").status_code == 401


def test_it_is_read_only(api) -> None:
    assert api.post("/api/v1/topology/", {}).status_code == 405
