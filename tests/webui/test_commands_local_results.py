"""Embedded mode: the local agent hands its command results to one results thread
(webui/commands/local.py) and acts on; the results are applied in the order they were reported,
each announced to the pages, and one that cannot be applied does not stop the ones after it."""

from __future__ import annotations

import json
import time

import pytest

from tests.webui.commands_support import make_operator
from tests.webui.test_commands_results import result
from webui.commands import local
from webui.commands.models import Command

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_applies_reported_results_in_order_on_its_own_thread(node_key: str, monkeypatch) -> None:
    told: list[str] = []
    monkeypatch.setattr(
        "webui.commands.service.broadcast",
        lambda message: told.append(json.loads(message["text"])["command"]["status"]),
    )
    user, _ = make_operator()
    command = Command.objects.create(node="h1", verb="netns.create", args={"name": "n1"}, actor=user, status="sent")
    local.report("not json", "bad signature")  # logged and dropped; the next ones still apply
    local.report(*result(command, "running", node_key))
    local.report(*result(command, "done", node_key, result={"name": "n1"}))
    deadline = time.monotonic() + 10
    while told != ["running", "done"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert told == ["running", "done"], f"the pages were told {told}"
    command.refresh_from_db()
    assert (command.status, command.result) == ("done", {"name": "n1"})
