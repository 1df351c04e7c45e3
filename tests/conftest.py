"""Shared fixtures for the server tests (tests/webui) and the end-to-end tests.

Nothing here is autouse: the agent and distributed tests load this file too and need none of it.
Run the server tests against PostgreSQL with DATABASE_URL=postgres://postgres@127.0.0.1:5432/nsmap
(pytest-django creates and drops test_nsmap); tests/webui/test_postgres_suite.py does that for a
representative set of modules in every run when PostgreSQL is reachable.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import FakeAgent


@pytest.fixture
def sent_commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Commands the server sends to agents, as (node, parsed body), instead of sending them."""
    import json

    from webui.topology import agents

    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(agents, "send_command", lambda node, body: sent.append((node, json.loads(body))))
    return sent


@pytest.fixture
def node_key(db: Any) -> str:
    """Node "h1" registered with a key, as `manage.py nsmap_node add h1` does."""
    from webui.topology.models import Node

    key = "k" * 8 + "test-node-key-h1-0123456789"
    Node.objects.create(name="h1", key=key)
    return key


@pytest.fixture
def agent(node_key: str) -> FakeAgent:
    """A signing fake agent for the registered node h1."""
    return FakeAgent("h1", key=node_key)


@pytest.fixture
def local_agent(settings: Any) -> FakeAgent:
    """The embedded in-process agent (trusted: no key) for this server's NODE_NAME."""
    return FakeAgent(settings.NODE_NAME)


@pytest.fixture
def viewer(db: Any) -> Any:
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("viewer1", password="pw-viewer-1")
    user.groups.add(Group.objects.get_or_create(name="viewer")[0])  # transactional tests flush data migrations
    return user


@pytest.fixture
def api_token(viewer: Any) -> str:
    from webui.accounts.models import Token

    return Token.issue(viewer)[1]


@pytest.fixture
def api(client: Any, api_token: str) -> Any:
    """A Django test client that sends the viewer's Bearer token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token}"
    return client


@pytest.fixture
def ingest(db: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """``ingest(body, signature, **kw)`` that also runs its on-commit callbacks (broadcast, resync
    request) at once, as a real commit would; the test's transaction never commits."""
    from webui.topology.ingest import ingest as service

    def call(message: tuple[str, str | None] | str, signature: str | None = None, **kw: Any) -> Any:
        body, sig = message if isinstance(message, tuple) else (message, signature)
        with django_capture_on_commit_callbacks(execute=True):
            return service(body, sig, **kw)

    return call


@pytest.fixture
def patches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Patches the ingest broadcasts, captured instead of sent."""
    from webui.topology import ingest as module

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(module, "broadcast_patch", sent.append)
    return sent
