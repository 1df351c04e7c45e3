"""POST/GET /api/v1/commands/: operators only, validated before anything is recorded or sent, once per key."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.commands import parse_lab_celery_message
from agent.labwire import LAB_COMMAND_TASK, validate_command
from agent.signing import verify
from tests.webui.commands_support import URL, make_operator, mark_online, post, taken
from webui.commands.models import Command

pytestmark = pytest.mark.django_db

CREATE = {"node": "h1", "verb": "bridge.create", "args": {"namespace": "lab", "name": "br0"}}


@pytest.fixture
def online(node_key: str) -> str:
    mark_online("h1")
    return node_key


@pytest.fixture
def operator(db: Any) -> tuple[Any, str]:
    return make_operator()


def test_it_accepts_an_operators_command_and_sends_it_signed_after_commit(
    client, operator, online: str, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, operator[1], CREATE, HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["actor"], body["request_id"], body["verb"]) == (
        "requested",
        "op1",
        "req-42",
        "bridge.create",
    )
    assert Command.objects.get(pk=body["id"]).status == "sent", "sent after commit, yet not marked so"
    [(task, payload)] = taken("h1")
    assert task == LAB_COMMAND_TASK
    text, signature = parse_lab_celery_message(payload)
    assert verify(text.encode(), online, signature), "the command is not signed with the node's key"
    command = validate_command(json.loads(text))
    assert (command["id"], command["args"], command["actor"]) == (body["id"], CREATE["args"], "op1")


def test_it_sends_nothing_before_commit(client, operator, online: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert post(client, operator[1], CREATE).status_code == 202
    assert taken("h1") == [] and callbacks, "a command left before its row was committed"


def test_it_refuses_a_viewer_with_403_and_records_nothing(client, api_token: str, online: str):
    response = post(client, api_token, CREATE)
    assert response.status_code == 403
    assert Command.objects.count() == 0 and taken("h1") == []


def test_it_lets_a_viewer_read(client, api_token: str, operator, online: str):
    post(client, operator[1], CREATE)
    listed = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert listed.status_code == 200 and [c["verb"] for c in listed.json()["results"]] == ["bridge.create"]
    one = client.get(f"{URL}{listed.json()['results'][0]['id']}/", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert one.status_code == 200 and one.json()["node"] == "h1"


def test_it_answers_401_without_credentials(client, online: str):
    assert client.post(URL, json.dumps(CREATE), content_type="application/json").status_code == 401
    assert client.get(URL).status_code == 401


def test_it_needs_csrf_on_a_session_but_not_with_a_token(operator, online: str):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="op1", password="pw-op1")
    refused = browser.post(URL, json.dumps(CREATE), content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    assert Command.objects.count() == 0
    from django.conf import settings

    token = "t" * 32  # what a page's csrftoken cookie holds (a 32-character secret)
    browser.cookies[settings.CSRF_COOKIE_NAME] = token
    accepted = browser.post(URL, json.dumps(CREATE), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 202, accepted.content
    assert post(Client(enforce_csrf_checks=True), operator[1], {**CREATE, "idempotency_key": "t"}).status_code == 202


def test_it_runs_the_same_idempotency_key_once(client, operator, online: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, operator[1], {**CREATE, "idempotency_key": "k-1"})
        again = post(client, operator[1], {**CREATE, "idempotency_key": "k-1"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Command.objects.count() == 1 and len(taken("h1")) == 1


def test_it_keeps_idempotency_keys_per_user(client, operator, online: str):
    other = make_operator("op2")
    assert post(client, operator[1], {**CREATE, "idempotency_key": "k"}).status_code == 202
    assert post(client, other[1], {**CREATE, "idempotency_key": "k"}).status_code == 202
    assert Command.objects.count() == 2


def test_it_fails_a_command_for_an_offline_node_at_once(client, operator, node_key: str):
    taken("h1")
    response = post(client, operator[1], CREATE)
    assert response.status_code == 409
    assert response.json()["status"] == "failed" and "h1 is offline" in response.json()["error"]
    assert taken("h1") == []


def test_it_fails_a_command_for_a_node_without_a_key_at_once(client, operator, db):
    from webui.topology.models import Node

    Node.objects.create(name="h2", state="online")
    response = post(client, operator[1], {**CREATE, "node": "h2"})
    assert response.status_code == 409 and "has no key" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({**CREATE, "args": {"namespace": "lab", "name": "b" * 16}}, "args.name", "16 bytes"),
        ({**CREATE, "verb": "link.explode"}, "verb", "unknown verb"),
        ({**CREATE, "node": "h9"}, "node", "no node 'h9'"),
        ({**CREATE, "args": {"namespace": "h2/ns:5", "name": "br0"}}, "args.namespace", "not 'h1'"),
        ({**CREATE, "extra": 1}, "extra", "unknown field"),
        ({**CREATE, "idempotency_key": 5}, "idempotency_key", "string"),
        (
            {"node": "h1", "verb": "address.add", "args": {"interface": "h1/if:1:2", "address": "10.0.0.1"}},
            "args.address",
            "prefix",
        ),
    ],
)
def test_it_answers_400_naming_the_field_and_records_nothing(client, operator, online: str, body, field, reason):
    response = post(client, operator[1], body)
    assert response.status_code == 400
    assert any(reason in text for text in response.json()["fields"][field]), response.json()
    assert Command.objects.count() == 0 and taken("h1") == []


def test_it_filters_the_list(client, operator, online: str):
    post(client, operator[1], CREATE)
    post(client, operator[1], {"node": "h1", "verb": "netns.create", "args": {"name": "n1"}})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {operator[1]}"}
    assert [c["verb"] for c in client.get(URL, {"verb": "netns.create"}, **auth).json()["results"]] == ["netns.create"]
    assert client.get(URL, {"status": "bogus"}, **auth).status_code == 400
    assert client.get(URL, {"node": "h2"}, **auth).json()["results"] == []


def test_it_pages_the_commands_newest_first(client, operator, online: str):
    _, token = operator
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for n in range(3):
        assert post(client, token, {**CREATE, "args": {"namespace": "lab", "name": f"br{n}"}}).status_code == 202
    first = client.get(URL, {"limit": 2}, **auth).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    rest = client.get(first["next"], **auth).json()
    assert [c["args"]["name"] for c in first["results"] + rest["results"]] == ["br2", "br1", "br0"]
    assert client.get(URL, {"limit": 0}, **auth).status_code == 400


def test_it_refuses_an_idempotency_key_reused_for_another_command(client, operator, online: str):
    _, token = operator
    first = post(client, token, {**CREATE, "idempotency_key": "k-1"})
    assert first.status_code == 202
    other = post(client, token, {**CREATE, "args": {"namespace": "lab", "name": "br9"}, "idempotency_key": "k-1"})
    assert other.status_code == 400 and "idempotency_key" in other.json()["fields"], other.json()
