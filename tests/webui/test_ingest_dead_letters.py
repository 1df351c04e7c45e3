"""A message that passes admission but fails with a database error is set aside as a dead letter
with the reason: the other messages of its batch keep their effects, the node moves past it and
asks for a snapshot, and its next messages flow."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import FakeAgent, make_interface, make_inventory, upsert
from webui.topology import deadletters
from webui.topology.ingest import ingest_batch
from webui.topology.models import DeadLetter, Interface, Namespace, Node

pytestmark = pytest.mark.django_db

ROOT = 4026531840


@pytest.fixture
def poisoned() -> None:
    """The database itself refuses an interface named "poison0" (a real error from the
    database, as a broken constraint or a full disk would give). Dropped with the test's
    transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.name = 'poison0' THEN "
                "RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER poison BEFORE INSERT ON topology_interface FOR EACH ROW EXECUTE FUNCTION poison()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER poison BEFORE INSERT ON topology_interface WHEN NEW.name = 'poison0' "
                "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
            )


def test_it_sets_a_failing_message_aside_and_keeps_the_rest_of_the_batch(
    agent: FakeAgent, poisoned, sent_commands, django_capture_on_commit_callbacks
) -> None:
    inventory = make_inventory("h1", namespaces=2)
    batch = [
        agent.snapshot(inventory),
        agent.delta([upsert(make_interface(ROOT, 50, "poison0"))]),
        agent.delta([upsert(make_interface(ROOT, 51, "good0"))]),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results, leftover = ingest_batch(batch, final=True)
    assert results[0].status == "applied", results
    assert results[1].status == "rejected" and "poisoned row" in results[1].reason, results
    assert leftover == []
    assert Namespace.objects.count() == 3, "the batch's snapshot was rolled back with the failing message"
    letters = list(DeadLetter.objects.filter(node__name="h1"))
    assert [letter.seq for letter in letters if "poisoned row" in letter.reason], letters
    assert all(letter.run == agent.run and letter.type == "delta" for letter in letters)
    assert sent_commands and sent_commands[-1][1]["command"] == "resync", "no snapshot asked after the dead letter"
    node = Node.objects.get(name="h1")
    assert (node.run, node.last_seq, node.synced) == (agent.run, 3, False)


def test_it_lets_the_next_messages_flow_after_a_dead_letter(ingest, agent: FakeAgent, poisoned, sent_commands) -> None:
    assert ingest(agent.snapshot(make_inventory("h1", namespaces=1))).status == "applied"
    result = ingest(agent.delta([upsert(make_interface(ROOT, 50, "poison0"))]))
    assert result.status == "rejected" and "poisoned row" in result.reason
    assert ingest(agent.heartbeat()).status in ("resync", "waiting"), "the message after a dead letter is blocked"
    inventory = make_inventory("h1", namespaces=1)
    inventory.interfaces.append(make_interface(ROOT, 51, "good0"))
    assert ingest(agent.snapshot(inventory)).status == "applied"
    assert Interface.objects.filter(name="good0").exists()
    assert ingest(agent.heartbeat()).status == "heartbeat"


def test_it_summarises_dead_letters_per_node_for_the_nodes_api(ingest, agent: FakeAgent, poisoned, sent_commands):
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    ingest(agent.delta([upsert(make_interface(ROOT, 50, "poison0"))]))
    other = Node.objects.create(name="h2")
    node = Node.objects.get(name="h1")
    summary = deadletters.summaries([node.pk, other.pk])
    assert summary[other.pk] == {"count": 0, "recent": []}
    assert summary[node.pk]["count"] == 1
    (recent,) = summary[node.pk]["recent"]
    assert recent["seq"] == 2 and recent["type"] == "delta" and "poisoned row" in recent["reason"]
    assert recent["run"] == agent.run and recent["received"] is not None


def test_it_shows_dead_letters_on_the_nodes_api(api, ingest, agent: FakeAgent, poisoned, sent_commands):
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    ingest(agent.delta([upsert(make_interface(ROOT, 50, "poison0"))]))
    (h1,) = api.get("/api/v1/nodes/").json()["results"]
    assert h1["dead_letters"]["count"] == 1
    (recent,) = h1["dead_letters"]["recent"]
    assert recent["seq"] == 2 and "poisoned row" in recent["reason"] and recent["received"].endswith("Z")


def test_it_keeps_only_the_newest_dead_letters_of_a_node(ingest, agent: FakeAgent, poisoned, sent_commands):
    ingest(agent.snapshot(make_inventory("h1", namespaces=1)))
    node = Node.objects.get(name="h1")
    for seq in range(deadletters.KEPT + 5):
        DeadLetter.objects.create(
            node=node, received=node.last_heartbeat, run="r", seq=seq + 1, type="delta", reason="x"
        )
    ingest(agent.delta([upsert(make_interface(ROOT, 50, "poison0"))]))
    assert DeadLetter.objects.filter(node=node).count() == deadletters.KEPT
    assert DeadLetter.objects.filter(node=node).order_by("-id").first().reason.startswith("not applied")
