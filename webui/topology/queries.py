"""Reads for the REST API and the WebSocket: the graph JSON and node summaries."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Count

from webui.topology import deadletters
from webui.topology.graph import build_graph, iso
from webui.topology.models import GraphVersion, Interface, Namespace, Node
from webui.topology.records import INTERFACE_VALUES, NAMESPACE_VALUES

NODE_VALUES = ("name", "state", "last_heartbeat", "run")


def current_seq() -> int:
    return GraphVersion.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


def load_graph() -> dict[str, Any]:
    """The whole graph with the patch number it reflects, read as one consistent snapshot.

    PostgreSQL: a REPEATABLE READ, read-only transaction, so the number and the rows belong
    together (a client that compares the graph with the change log up to ``seq`` sees no
    half-applied ingest). SQLite: one transaction (immediate, see settings) does the same.
    Inside an already open transaction the rows are read as they are.
    """
    if connection.in_atomic_block:
        return _read_graph()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _read_graph()


def _read_graph() -> dict[str, Any]:
    seq = current_seq()
    nodes = Node.objects.order_by("name").values(*NODE_VALUES)
    namespaces = Namespace.objects.order_by("node__name", "key").values(*NAMESPACE_VALUES, "node__name")
    interfaces = Interface.objects.order_by("node__name", "key").values(*INTERFACE_VALUES, "node__name")
    return build_graph(seq, nodes, namespaces, interfaces.iterator(chunk_size=2000))


def node_summaries() -> list[dict[str, Any]]:
    counts_ns = dict(Namespace.objects.values_list("node").annotate(n=Count("id")).values_list("node", "n"))
    counts_if = dict(Interface.objects.values_list("node").annotate(n=Count("id")).values_list("node", "n"))
    nodes = list(Node.objects.order_by("name"))
    dead = deadletters.summaries(n.pk for n in nodes)
    out = []
    for node in nodes:
        letters = dead[node.pk]
        out.append(
            {
                "id": node.name,
                "name": node.name,
                "state": node.state,
                "last_heartbeat": iso(node.last_heartbeat),
                "last_seen": iso(node.last_heartbeat),
                "run": node.run or None,
                "seq": node.last_seq,
                "synced": node.synced,
                "complete": node.complete,
                "errors": node.errors,
                "has_key": bool(node.key),
                "first_seen": iso(node.first_seen),
                "namespaces": counts_ns.get(node.pk, 0),
                "interfaces": counts_if.get(node.pk, 0),
                "dead_letters": {
                    "count": letters["count"],
                    "recent": [{**r, "received": iso(r["received"])} for r in letters["recent"]],
                },
            }
        )
    return out
