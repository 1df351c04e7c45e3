"""A command that gets no result (the agent died while acting, its result was lost) fails after
NSMAP_COMMAND_ANSWER_MINUTES with a reason a person understands, and every page is told; a
result that comes later changes nothing; answered or young commands are left alone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.webui.commands_support import make_operator
from tests.webui.test_commands_results import result
from webui.commands.models import Command
from webui.commands.service import apply_result, expire_unanswered

pytestmark = pytest.mark.django_db


def made(status: str, minutes_ago: float) -> Command:
    user = User.objects.filter(username="op1").first() or make_operator()[0]
    command = Command.objects.create(
        node="h1", verb="netns.create", args={"name": "n1"}, actor=user, actor_name="op1", status=status
    )
    Command.objects.filter(pk=command.pk).update(created=timezone.now() - timedelta(minutes=minutes_ago))
    return command


def test_it_fails_a_command_left_without_an_answer_and_tells_the_pages(
    settings, node_key: str, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    settings.NSMAP_COMMAND_ANSWER_MINUTES = 15
    told: list[dict] = []
    monkeypatch.setattr("webui.commands.service.broadcast", lambda message: told.append(json.loads(message["text"])))
    stuck, running = made("sent", 16), made("running", 20)
    young, answered = made("sent", 14), made("done", 60)
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_unanswered() == 2
    for command in (stuck, running):
        command.refresh_from_db()
        assert command.status == "failed", f"a {command.status} command 16+ minutes old was not failed"
        assert command.error == "no answer from the agent on h1 within 15 minutes"
        assert command.finished_at is not None
    assert {m["command"]["id"] for m in told} == {str(stuck.pk), str(running.pk)}, "the pages were not told"
    young.refresh_from_db()
    answered.refresh_from_db()
    assert (young.status, answered.status) == ("sent", "done")

    apply_result(*result(stuck, "done", node_key, result={"name": "n1"}))
    stuck.refresh_from_db()
    assert (stuck.status, stuck.result) == ("failed", None), "a result after the expiry changed the command"
