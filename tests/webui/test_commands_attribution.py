"""Which kernel changes are a command's doing: the objects a command in flight (or just finished)
names in its args or result, or that carry its mark nsmap:<command id>
(webui.commands.service.attribute_changes, used by the change-log writer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.webui.commands_support import make_operator
from webui.commands.models import Command
from webui.commands.service import ATTRIBUTION_WINDOW, attribute_changes

pytestmark = pytest.mark.django_db
VETH = "h1/if:4026532000:5"


def make(status: str, finished_ago: timedelta | None, verb: str = "bridge.create", args: Any = None) -> Command:
    user, _ = make_operator(f"op{Command.objects.count()}")
    finished = timezone.now() - finished_ago if finished_ago is not None else None
    return Command.objects.create(
        node="h1", verb=verb, args=args or {}, actor=user, actor_name=user.username, request_id="req-9",
        status=status, finished_at=finished,
    )  # fmt: skip


def test_it_attributes_a_mark_to_its_running_or_just_finished_command():
    running, done = make("running", None), make("done", timedelta(seconds=2))
    found = attribute_changes(
        "h1",
        [
            ("h1/if:1:7", f"nsmap:{running.pk}", "v7"),
            ("h1/if:1:8", f"nsmap:{done.pk}", "v8"),
            ("h1/if:1:9", None, "v9"),
        ],
    )
    assert found == {"h1/if:1:7": ("user:op0", str(running.pk)), "h1/if:1:8": ("user:op1", str(done.pk))}


def test_it_attributes_what_a_command_names_before_what_made_it():
    creator = make("done", timedelta(seconds=5))
    deleter = make("running", None, verb="link.delete", args={"interface": VETH})
    found = attribute_changes("h1", [(VETH, f"nsmap:{creator.pk}", "veth0")])
    assert found == {VETH: ("user:op1", str(deleter.pk))}, "a delete is the deleting command's doing"


def test_it_leaves_later_changes_unattributed():
    old = make("done", ATTRIBUTION_WINDOW + timedelta(seconds=1), verb="link.set", args={"interface": VETH})
    assert attribute_changes("h1", [(VETH, f"nsmap:{old.pk}", "veth0")]) == {}


def test_it_looks_only_at_the_node_the_change_is_on():
    make("running", None, verb="link.delete", args={"interface": VETH})
    assert attribute_changes("h2", [(VETH, None, None)]) == {}


@pytest.mark.parametrize("alias", ["nsmap:", "nsmap:not-a-uuid", "NSMAP:0b5d5c3e-8d1f-4c39-9a57-2f1f4f1d2a10"])
def test_it_ignores_marks_that_name_no_command(alias: str):
    make("running", None)
    assert attribute_changes("h1", [("h1/if:1:7", alias, "v7")]) == {}


def test_it_attributes_a_new_pairs_first_appearance_by_its_temporary_names():
    """The ends appear under names the command gave them before it marks them (agent/actions.py)."""
    from agent.verbs import temp_names

    creator = make("running", None, verb="veth.create")
    first, second = temp_names(str(creator.pk))
    found = attribute_changes("h1", [("h1/if:1:7", None, first), ("h1/if:9:2", None, second), ("h1/if:1:8", None, "x")])
    assert found == {"h1/if:1:7": ("user:op0", str(creator.pk)), "h1/if:9:2": ("user:op0", str(creator.pk))}
