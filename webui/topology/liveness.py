"""Liveness: nodes that fall silent become stale, and a node can be forgotten. Both write the
change log and broadcast a patch like the ingest does (webui/topology/apply.py numbers it), but
on the server's or an operator's behalf rather than for an agent message.

mark_stale is cheap when nothing is due, so the API and the WebSocket consumer call it on connect
(webui/live/consumers.py) as well as the periodic task (webui/topology/tasks.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webui.changelog import writer
from webui.live.broadcast import broadcast_patch
from webui.topology import diff
from webui.topology.apply import Effects, host_state, next_graph_seq, node_row, stored
from webui.topology.graph import build_patch
from webui.topology.models import Node, NodeState

log = logging.getLogger("nsmap.ingest")


def mark_stale(now: datetime | None = None) -> list[str]:
    """Nodes without a message for NSMAP_STALE_AFTER seconds become "stale" (patch + change log).

    Cheap when nothing is due (one indexed query), so it runs on API/WebSocket connects as well as
    periodically (Celery beat in distributed mode, a thread of nsmap_serve in embedded mode).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NSMAP_STALE_AFTER)
    due = Node.objects.filter(state=NodeState.ONLINE, last_heartbeat__lt=cutoff)
    if not due.exists():
        return []
    names: list[str] = []
    with transaction.atomic():
        nodes = list(due.select_for_update().order_by("id"))
        if not nodes:
            return []
        graph_seq = next_graph_seq()
        for node in nodes:
            before = host_state(node)
            node.state = NodeState.STALE
            node.save(update_fields=["state", "changed"])
            names.append(node.name)
            common = writer.context(node.name, graph_seq, "server")
            writer.write_change_log(node.name, common, [(before, host_state(node))])
        patch = build_patch(graph_seq, hosts=[node_row(n) for n in nodes])
        transaction.on_commit(lambda: broadcast_patch(patch))
    log.info("nodes stale (no message for %ss): %s", settings.NSMAP_STALE_AFTER, ", ".join(names))
    return names


def forget_node(name: str, actor: str = "cli") -> bool:
    """Delete a node and everything observed on it, logging each object as removed (so the
    history still knows when they went) and broadcasting the removals. False: no such node."""
    with transaction.atomic():
        node = Node.objects.select_for_update().filter(name=name).first()
        if node is None:
            return False
        _, _, namespaces, interfaces = stored(node)
        plan = diff.plan(namespaces, interfaces, {}, {})
        effects = Effects(host_changes=[(host_state(node), None)], plan=plan)
        graph_seq = next_graph_seq()
        writer.write_change_log(name, writer.context(name, graph_seq, actor), effects.host_changes, effects.plan)
        node.delete()
        patch = build_patch(
            graph_seq,
            removed_namespaces=[f"{name}/{k}" for k in effects.removed_ns],
            removed_interfaces=[f"{name}/{k}" for k in effects.removed_if],
            removed_hosts=[name],
        )
        transaction.on_commit(lambda: broadcast_patch(patch))
    log.info("node %s forgotten by %s (%d namespaces, %d interfaces)", name, actor, len(namespaces), len(interfaces))
    return True
