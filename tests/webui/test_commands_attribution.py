"""Which kernel changes are a command's doing: the alias nsmap:<command id> while the command runs
or shortly after (webui.commands.service.attribution, for the change log)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webui.commands_support import make_operator
from webui.commands.models import Command
from webui.commands.service import ATTRIBUTION_WINDOW, attribution

pytestmark = pytest.mark.django_db


def make(status: str, finished_ago: timedelta | None) -> Command:
    user, _ = make_operator(f"op{Command.objects.count()}")
    finished = timezone.now() - finished_ago if finished_ago is not None else None
    return Command.objects.create(
        node="h1", verb="bridge.create", args={}, actor=user, actor_name=user.username, request_id="req-9",
        status=status, finished_at=finished,
    )  # fmt: skip


def test_it_attributes_an_alias_to_its_running_or_just_finished_command():
    running, done = make("running", None), make("done", timedelta(seconds=2))
    found = attribution([f"nsmap:{running.pk}", f"nsmap:{done.pk}", None, "someone else's"])
    assert found == {f"nsmap:{running.pk}": ("op0", "req-9"), f"nsmap:{done.pk}": ("op1", "req-9")}


def test_it_leaves_later_changes_of_the_same_interface_unattributed():
    old = make("done", ATTRIBUTION_WINDOW + timedelta(seconds=1))
    assert attribution([f"nsmap:{old.pk}"]) == {}


@pytest.mark.parametrize("alias", ["nsmap:", "nsmap:not-a-uuid", "NSMAP:0b5d5c3e-8d1f-4c39-9a57-2f1f4f1d2a10"])
def test_it_ignores_aliases_that_name_no_command(alias: str):
    assert attribution([alias]) == {}
