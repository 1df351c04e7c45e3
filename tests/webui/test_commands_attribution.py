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
from webui.commands.service import ATTRIBUTION_WINDOW, Touched, attribute_changes

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
            Touched("h1/if:1:7", f"nsmap:{running.pk}", "v7"),
            Touched("h1/if:1:8", f"nsmap:{done.pk}", "v8"),
            Touched("h1/if:1:9", None, "v9"),
        ],
    )
    assert found == {"h1/if:1:7": ("user:op0", str(running.pk)), "h1/if:1:8": ("user:op1", str(done.pk))}


def test_it_attributes_what_a_command_names_before_what_made_it():
    creator = make("done", timedelta(seconds=5))
    deleter = make("running", None, verb="link.delete", args={"interface": VETH})
    found = attribute_changes("h1", [Touched(VETH, f"nsmap:{creator.pk}", "veth0")])
    assert found == {VETH: ("user:op1", str(deleter.pk))}, "a delete is the deleting command's doing"


def test_it_leaves_later_changes_unattributed():
    old = make("done", ATTRIBUTION_WINDOW + timedelta(seconds=1), verb="link.set", args={"interface": VETH})
    assert attribute_changes("h1", [Touched(VETH, f"nsmap:{old.pk}", "veth0")]) == {}


def test_it_looks_only_at_the_node_the_change_is_on():
    make("running", None, verb="link.delete", args={"interface": VETH})
    assert attribute_changes("h2", [Touched(VETH)]) == {}


@pytest.mark.parametrize("alias", ["nsmap:", "nsmap:not-a-uuid", "NSMAP:0b5d5c3e-8d1f-4c39-9a57-2f1f4f1d2a10"])
def test_it_ignores_marks_that_name_no_command(alias: str):
    make("running", None)
    assert attribute_changes("h1", [Touched("h1/if:1:7", alias, "v7")]) == {}


def test_it_attributes_the_peer_a_deleted_end_takes_with_it():
    """The command names one end; the kernel removes both (the other's record names it as peer)."""
    creator = make("done", timedelta(seconds=5), verb="veth.create")
    deleter = make("running", None, verb="link.delete", args={"interface": VETH})
    peer = Touched("h1/if:4026532001:6", f"nsmap:{creator.pk}", "veth1", related=(VETH,), action="removed")
    assert attribute_changes("h1", [peer]) == {peer.id: ("user:op1", str(deleter.pk))}


def test_it_attributes_a_move_before_its_result_names_the_new_id():
    """The moved interface's record arrives under its new id; the command named the old one."""
    mover = make("running", None, verb="link.move", args={"interface": VETH, "namespace": "n2"})
    moved = Touched("h1/if:4026532002:9", "nsmap:someone-else", "veth0", related=(VETH,), action="moved")
    assert attribute_changes("h1", [moved]) == {moved.id: ("user:op0", str(mover.pk))}


def test_it_attributes_a_named_namespace_to_the_netns_verb_that_names_it():
    maker = make("running", None, verb="netns.create", args={"name": "lab-a"})
    made, other = (
        Touched("h1/ns:4026532003", netns_names=("lab-a",), kind="namespace"),
        Touched("h1/ns:4026532004", netns_names=("b",), kind="namespace"),
    )
    assert attribute_changes("h1", [made, other]) == {made.id: ("user:op0", str(maker.pk))}


def test_it_matches_namespace_names_only_against_netns_verbs():
    make("running", None, verb="veth.create", args={"a": {"namespace": "x", "name": "lab-a"}})
    assert attribute_changes("h1", [Touched("h1/ns:4026532003", netns_names=("lab-a",), kind="namespace")]) == {}


def test_it_gives_a_removal_to_a_verb_that_removes_not_to_a_later_one_that_named_the_end():
    peer = "h1/if:4026532001:6"
    deleter = make("done", timedelta(seconds=1), verb="link.delete", args={"interface": VETH})
    make("running", None, verb="bridge.detach", args={"interface": peer})
    removed = Touched(peer, None, "veth1", related=(VETH,), action="removed")
    assert attribute_changes("h1", [removed]) == {peer: ("user:op0", str(deleter.pk))}


def test_it_gives_a_namespaces_removal_to_the_delete_not_to_the_create_whose_result_named_it():
    creator = make("done", timedelta(seconds=3), verb="netns.create", args={"name": "lab-a"})
    creator.result = {"namespace": "h1/ns:4026532003", "name": "lab-a"}
    creator.save()
    deleter = make("running", None, verb="netns.delete", args={"name": "lab-a"})
    gone = Touched("h1/ns:4026532003", netns_names=("lab-a",), action="removed", kind="namespace")
    assert attribute_changes("h1", [gone]) == {gone.id: ("user:op1", str(deleter.pk))}


def test_it_attributes_an_interface_a_move_in_flight_brings_in_by_the_moved_ones_alias_and_name():
    """The removal at the old id and the addition at the new one reached the server apart."""
    from webui.changelog.models import ChangeRecord

    creator = make("done", timedelta(seconds=5), verb="veth.create")
    mover = make("running", None, verb="link.move", args={"interface": VETH, "namespace": "n2"})
    before = {"key": "if:4026532000:5", "name": "veth0", "alias": f"nsmap:{creator.pk}"}
    ChangeRecord.objects.create(
        time=timezone.now(), node="h1", object_kind="interface", object_key="if:4026532000:5", object_id=VETH,
        name="veth0", action="removed", before=before, after=None, fields=[], actor="user:op1",
        request_id=str(mover.pk), graph_seq=1, position=0,
    )  # fmt: skip
    arrived = Touched("h1/if:4026532009:2", f"nsmap:{creator.pk}", "veth0", action="added")
    elsewhere = Touched("h1/if:4026532009:3", f"nsmap:{creator.pk}", "other", action="added")
    found = attribute_changes("h1", [arrived, elsewhere])
    assert found[arrived.id] == ("user:op1", str(mover.pk)), "the moved interface is the move's doing"
    assert found[elsewhere.id] == ("user:op0", str(creator.pk)), "another interface of that pair is not"


def test_it_attributes_an_interface_born_while_a_create_in_flight_names_it():
    """agent/actions.py creates a pair under its final names and marks it a moment later."""
    creator = make("running", None, verb="veth.create", args={"a": {"namespace": "x", "name": "veth0"},
                                                              "b": {"namespace": "y", "name": "veth1"}})  # fmt: skip
    born = [Touched("h1/if:1:7", None, "veth0", action="added"), Touched("h1/if:2:7", None, "veth1", action="added")]
    renamed = Touched("h1/if:3:7", None, "veth0", action="changed")
    assert attribute_changes("h1", [*born, renamed]) == {o.id: ("user:op0", str(creator.pk)) for o in born}


def test_it_gives_a_name_to_no_create_once_it_finished():
    make("done", timedelta(seconds=1), verb="bridge.create", args={"namespace": "x", "name": "br0"})
    assert attribute_changes("h1", [Touched("h1/if:1:9", None, "br0", action="added")]) == {}


def test_it_attributes_an_interface_removed_with_its_namespace_to_the_netns_delete():
    """lo (and whatever else) goes with the namespace; the writer ties each to its namespace's id."""
    deleter = make("done", timedelta(seconds=1), verb="netns.delete", args={"name": "lab"})
    Command.objects.filter(pk=deleter.pk).update(result={"namespace": "h1/ns:4026532000"})
    lo = Touched("h1/if:4026532000:1", None, "lo", ("h1/ns:4026532000",), action="removed")
    assert attribute_changes("h1", [lo]) == {lo.id: (f"user:{deleter.actor_name}", str(deleter.pk))}


def test_it_does_not_blame_a_finished_create_for_a_later_removal():
    """An ``ip link del`` of a pair seconds after its veth.create finished is not the create's doing;
    while it runs (its undo), it is."""
    done = make("done", timedelta(seconds=2), verb="veth.create")
    end = Touched("h1/if:1:7", f"nsmap:{done.pk}", "veth0", action="removed")
    assert attribute_changes("h1", [end]) == {}, "a removal was credited to a create that had finished"
    running = make("running", None, verb="veth.create")
    undone = Touched("h1/if:1:8", f"nsmap:{running.pk}", "veth1", action="removed")
    assert attribute_changes("h1", [undone]) == {undone.id: (f"user:{running.actor_name}", str(running.pk))}


def test_it_ties_a_new_interface_to_a_create_in_flight_by_its_name_and_namespace():
    """A container's eth0 born while an operator creates an eth0 elsewhere is not the operator's;
    the create's own ends are, whether its args name the namespace by graph id, by /run/netns
    name, or (for a port) by the bridge."""
    from webui.topology.models import Namespace, Node

    node = Node.objects.create(name="h1", key="k" * 40)
    now = timezone.now()
    Namespace.objects.create(
        node=node, key="ns:4026532010", inode=4026532010, kind="named", names=["lab"], first_seen=now, changed=now
    )
    pair = make(
        "running", None, verb="veth.create",
        args={"a": {"namespace": "h1/ns:4026532009", "name": "eth0"}, "b": {"namespace": "lab", "name": "eth1"}},
    )  # fmt: skip
    port_args = {
        "a": {"namespace": "h1/ns:4026532009", "name": "up0"},
        "b": {"bridge": "h1/if:4026532011:4", "name": "p0"},
    }
    port = make("running", None, verb="veth.create", args=port_args)

    def born(name: str, inode: int, index: int) -> Touched:
        return Touched(f"h1/if:{inode}:{index}", None, name, action="added", namespace=f"h1/ns:{inode}")

    ours_a, ours_b, port_end = born("eth0", 4026532009, 5), born("eth1", 4026532010, 6), born("p0", 4026532011, 7)
    container, elsewhere = born("eth0", 4026532099, 2), born("p0", 4026532098, 3)
    found = attribute_changes("h1", [ours_a, ours_b, port_end, container, elsewhere])
    assert found == {
        ours_a.id: ("user:" + pair.actor_name, str(pair.pk)),
        ours_b.id: ("user:" + pair.actor_name, str(pair.pk)),
        port_end.id: ("user:" + port.actor_name, str(port.pk)),
    }, "a new interface was tied to a create by its name in another namespace, or not tied to its own"


def test_it_gives_what_went_with_a_namespace_to_the_command_that_removed_it_before_its_result():
    """The kernel's events can come before the netns.delete's result names the namespace's id: the
    namespace is matched by its name, and its lo by going with it in the same write."""
    deleter = make("running", None, verb="netns.delete", args={"name": "lab"})
    ns = Touched("h1/ns:4026532000", netns_names=("lab",), action="removed", kind="namespace")
    lo = Touched("h1/if:4026532000:1", None, "lo", ("h1/ns:4026532000",), action="removed", namespace=ns.id)
    other = Touched(
        "h1/if:4026532001:1", None, "lo", ("h1/ns:4026532001",), action="removed", namespace="h1/ns:4026532001"
    )
    cause = (f"user:{deleter.actor_name}", str(deleter.pk))
    assert attribute_changes("h1", [lo, ns, other]) == {ns.id: cause, lo.id: cause}


def test_it_gives_a_nameless_namespaces_removal_to_the_command_an_earlier_record_gave_it_to():
    """netns.delete first takes the /run/netns name (a "changed" record, matched by that name), and
    the namespace goes with no name left, before the command's result names its id."""
    from webui.changelog.models import ChangeRecord

    deleter = make("running", None, verb="netns.delete", args={"name": "lab"})
    now = timezone.now()
    ChangeRecord.objects.create(
        time=now, node="h1", object_kind="namespace", object_key="ns:4026532005", object_id="h1/ns:4026532005",
        name="lab", action="changed", actor=f"user:{deleter.actor_name}", request_id=str(deleter.pk),
        graph_seq=1, position=0,
    )  # fmt: skip
    ns = Touched("h1/ns:4026532005", action="removed", kind="namespace")
    lo = Touched("h1/if:4026532005:1", None, "lo", ("h1/ns:4026532005",), action="removed", namespace=ns.id)
    unrelated = Touched("h1/ns:4026532006", action="removed", kind="namespace")
    cause = (f"user:{deleter.actor_name}", str(deleter.pk))
    assert attribute_changes("h1", [ns, lo, unrelated]) == {ns.id: cause, lo.id: cause}


def test_it_gives_an_interface_removed_apart_from_its_namespace_to_the_command_that_took_the_namespace():
    from webui.changelog.models import ChangeRecord

    deleter = make("running", None, verb="netns.delete", args={"name": "lab"})
    creator = make("done", timedelta(seconds=3), verb="netns.create", args={"name": "new"})
    for command, inode in ((deleter, 4026532007), (creator, 4026532008)):
        ChangeRecord.objects.create(
            time=timezone.now(), node="h1", object_kind="namespace", object_key=f"ns:{inode}",
            object_id=f"h1/ns:{inode}", name="x", action="changed", actor=f"user:{command.actor_name}",
            request_id=str(command.pk), graph_seq=1, position=0,
        )  # fmt: skip
    lo = Touched("h1/if:4026532007:1", None, "lo", action="removed", namespace="h1/ns:4026532007")
    other = Touched("h1/if:4026532008:1", None, "lo", action="removed", namespace="h1/ns:4026532008")
    assert attribute_changes("h1", [lo, other]) == {lo.id: (f"user:{deleter.actor_name}", str(deleter.pk))}, (
        "only the netns.delete's namespace takes its interfaces with it; a netns.create removes nothing"
    )
