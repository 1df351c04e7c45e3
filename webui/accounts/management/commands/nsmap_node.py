"""`manage.py nsmap_node add NAME | list | remove NAME | rotate NAME`: agent node keys.

``add`` and ``rotate`` print the new key once (alone on the last line); the agent signs every
message with it (NSMAP_NODE_KEY). The key is kept as issued because HMAC verification needs it.
"""

from __future__ import annotations

import getpass
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from agent.settings import NODE_NAME_RE
from webui.topology.liveness import forget_node
from webui.topology.models import Node


def new_key() -> str:
    return secrets.token_urlsafe(32)


class Command(BaseCommand):
    help = "Manage agent nodes and their signing keys: add NAME, list, remove NAME, rotate NAME."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register a node and print its new key once")
        add.add_argument("name")
        sub.add_parser("list", help="nodes, state, last heartbeat (never keys)")
        remove = sub.add_parser("remove", help="forget a node, its key and its observed state")
        remove.add_argument("name")
        rotate = sub.add_parser("rotate", help="replace a node's key and print the new one once")
        rotate.add_argument("name")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _check(self, name: str) -> str:
        if not NODE_NAME_RE.fullmatch(name):
            raise CommandError(f"node name {name!r}: use 1-63 letters, digits, '.', '_' or '-'")
        return name

    def _add(self, name: str, **_: Any) -> None:
        name = self._check(name)
        node = Node.objects.filter(name=name).first()
        if node is not None and node.key:
            raise CommandError(f"node {name} already has a key (use `rotate {name}` to replace it)")
        key = new_key()
        if node is None:
            Node.objects.create(name=name, key=key, key_created=timezone.now())
        else:  # seen before (e.g. embedded) but without a key
            Node.objects.filter(pk=node.pk).update(key=key, key_created=timezone.now())
        self.stderr.write(f"node {name} added; set NSMAP_NODE_KEY on its agent (shown once):")
        self.stdout.write(key)

    def _rotate(self, name: str, **_: Any) -> None:
        updated = Node.objects.filter(name=self._check(name)).update(key=(key := new_key()), key_created=timezone.now())
        if not updated:
            raise CommandError(f"no node {name}")
        self.stderr.write(f"node {name}: new key (the old one no longer verifies; shown once):")
        self.stdout.write(key)

    def _remove(self, name: str, **_: Any) -> None:
        # every object of the node is logged as removed and the removal is broadcast
        if not forget_node(name, actor=f"cli:{getpass.getuser()}"):
            raise CommandError(f"no node {name}")
        self.stdout.write(f"node {name} removed")

    def _list(self, **_: Any) -> None:
        rows = Node.objects.order_by("name")
        if not rows:
            self.stdout.write("no nodes")
            return
        self.stdout.write(f"{'NAME':<24} {'STATE':<8} {'KEY':<4} {'SEQ':>8}  LAST HEARTBEAT")
        for node in rows:
            heartbeat = node.last_heartbeat.isoformat(timespec="seconds") if node.last_heartbeat else "-"
            key = "yes" if node.key else "no"
            self.stdout.write(f"{node.name:<24} {node.state:<8} {key:<4} {node.last_seq:>8}  {heartbeat}")
