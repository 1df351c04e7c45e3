"""Lab commands on the server: validate, record, send after commit, apply the agent's results.

The args are checked with the agent's own validator (agent/verbs.py) before anything is
recorded or sent; the agent checks them again. Every command is signed with the node's key
(agent/signing.py): a node without one runs no lab command. In embedded mode the local agent's
key is derived from SECRET_KEY (the agent thread gets it from webui.commands.service.local_key),
so nothing has to be registered for the one-host case.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from agent.labwire import LAB_COMMAND_TASK, make_command, validate_command_result
from agent.protocol import ProtocolError
from agent.signing import sign, verify
from agent.verbs import MARK, ArgsError, parse_args
from webui.commands.models import FINISHED, Command, CommandStatus
from webui.live import embedded
from webui.live.broadcast import send as broadcast
from webui.topology.agents import deliver
from webui.topology.models import Node, NodeState

log = logging.getLogger("nsmap.commands")

FIELDS = frozenset({"node", "verb", "args", "idempotency_key"})
MAX_KEY = 100


class CommandRejected(ValueError):
    """Bad request: ``errors`` is {field: reason}; nothing was recorded."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class ResultRejected(ValueError):
    """A command_result that is forged, malformed or for no known command."""


def local_key(node: str) -> str:
    """The embedded agent's lab key: derived from SECRET_KEY, never stored or sent anywhere."""
    return hmac.new(settings.SECRET_KEY.encode(), f"nsmap-lab-command:{node}".encode(), hashlib.sha256).hexdigest()


def key_for(node: str) -> str | None:
    if embedded.is_local(node):
        return local_key(node)
    return Node.objects.filter(name=node).values_list("key", flat=True).first() or None


def check_request(data: Any) -> tuple[str, str, dict[str, Any], str]:
    """(node, verb, args, idempotency_key) from a POST body, or CommandRejected naming each bad field."""
    if not isinstance(data, dict):
        raise CommandRejected({"body": "must be a JSON object"})
    errors: dict[str, str] = {field: "unknown field" for field in sorted(set(data) - FIELDS, key=str)}
    node = data.get("node")
    if not isinstance(node, str) or not node:
        errors["node"] = "required: the node name"
    elif not embedded.is_local(node) and not Node.objects.filter(name=node).exists():
        errors["node"] = f"there is no node {node[:63]!r}"
    key = data.get("idempotency_key", "")
    if not isinstance(key, str) or len(key) > MAX_KEY or any(not ch.isprintable() for ch in key):
        errors["idempotency_key"] = f"must be a string of at most {MAX_KEY} printable characters"
    try:
        parse_args(data.get("verb"), data.get("args"), node if isinstance(node, str) else "")
    except ArgsError as exc:
        errors.update({k: v for k, v in exc.as_dict().items() if k not in errors})
    if errors or not isinstance(node, str) or not isinstance(key, str):
        raise CommandRejected(errors)
    return node, data["verb"], data["args"], key


@dataclass(frozen=True, slots=True)
class Submitted:
    command: Command
    created: bool  # False: the idempotency key named an earlier command, returned as it is


def submit(user: Any, data: Any, request_id: str = "") -> Submitted:
    """Record a command and send it after commit; a node offline or without a key fails it at once."""
    node, verb, args, key = check_request(data)
    if key:
        earlier = Command.objects.filter(actor=user, idempotency_key=key).first()
        if earlier is not None:
            if (earlier.node, earlier.verb, earlier.args) != (node, verb, args):
                raise CommandRejected({"idempotency_key": "already used for a different command"})
            return Submitted(earlier, False)
    offline = why_unreachable(node)
    fields: dict[str, Any] = {
        "node": node,
        "verb": verb,
        "args": args,
        "actor": user,
        "actor_name": user.get_username(),
        "request_id": request_id[:100],
        "idempotency_key": key,
    }
    if offline:
        fields.update(status=CommandStatus.FAILED, error=offline, finished_at=timezone.now())
    try:
        with transaction.atomic():
            command = Command.objects.create(**fields)
    except IntegrityError:  # the same key, concurrently: the other request's command stands
        return Submitted(Command.objects.get(actor=user, idempotency_key=key), False)
    transaction.on_commit(lambda: announce(command))  # first: the page sees "requested" before any later status
    if not offline:
        transaction.on_commit(lambda: send(command))
    return Submitted(command, True)


def why_unreachable(node: str) -> str | None:
    if embedded.is_local(node):
        return None if embedded.registered(LAB_COMMAND_TASK) else f"the local agent of {node} is not running"
    row = Node.objects.filter(name=node).values("state", "key").first()
    if row is None:
        return f"there is no node {node!r}"
    if row["state"] != NodeState.ONLINE:
        return f"node {node} is {row['state']}: its agent is not reporting, so it cannot act"
    if not row["key"]:
        return f"node {node} has no key (manage.py nsmap_node add {node}): its agent runs no lab commands"
    return None


def send(command: Command) -> None:
    """Sign and deliver one requested command (after commit); a delivery failure fails it."""
    key = key_for(command.node)
    if not key:
        return finish(command, CommandStatus.FAILED, f"node {command.node} has no key")
    body = json.dumps(
        make_command(
            str(command.pk), command.verb, command.args, command.actor_name, command.request_id or None, time.time()
        ),
        separators=(",", ":"),
    )
    failure = deliver(command.node, LAB_COMMAND_TASK, [body, sign(body.encode(), key)])
    if failure:
        return finish(command, CommandStatus.FAILED, failure)
    sent_at = timezone.now()
    if Command.objects.filter(pk=command.pk, status=CommandStatus.REQUESTED).update(
        status=CommandStatus.SENT, sent_at=sent_at
    ):  # still "requested", so no result has changed it: the object in hand is the row
        command.status, command.sent_at = CommandStatus.SENT, sent_at
        announce(command)
    return None


def finish(command: Command, status: CommandStatus, error: str) -> None:
    Command.objects.filter(pk=command.pk).exclude(status__in=FINISHED).update(
        status=status, error=error, finished_at=timezone.now()
    )
    command.refresh_from_db()
    announce(command)


def apply_result(body: str, signature: str | None) -> Command:
    """An agent's command_result: verified with the node's key, applied if it moves the command forward."""
    try:
        data = json.loads(body)
        node = data["node"]
        if not isinstance(node, str):
            raise TypeError
    except (ValueError, TypeError, KeyError):
        raise ResultRejected("a command_result is a JSON object with a node") from None
    key = key_for(node)
    if not key or not verify(body.encode(), key, signature):
        raise ResultRejected(f"bad or missing signature for node {node[:63]!r}")
    try:
        result = validate_command_result(data)
    except ProtocolError as exc:
        raise ResultRejected(str(exc)) from None
    with transaction.atomic():
        command = Command.objects.select_for_update().filter(pk=result["id"], node=node).first()
        if command is None:
            raise ResultRejected(f"no command {result['id']} for node {node}")
        if command.status in FINISHED:
            return command  # late or repeated report
        now = timezone.now()
        command.agent_timings = result["timings"]
        if result["status"] == "running":
            if command.status == CommandStatus.RUNNING:
                return command
            command.status, command.started_at = CommandStatus.RUNNING, now
        else:
            command.status = CommandStatus.DONE if result["status"] == "done" else CommandStatus.FAILED
            command.error, command.result, command.finished_at = result["error"] or "", result["result"], now
            command.started_at = command.started_at or now
        command.sent_at = command.sent_at or now
        command.save()
        transaction.on_commit(lambda: announce(command))
    return command


def expire_unanswered(now: datetime | None = None) -> int:
    """Fail the commands that got no result within NSMAP_COMMAND_ANSWER_MINUTES of being made
    (the agent died while acting, its result was lost): no page waits for them forever, and a
    late result is then ignored like any repeated one. Returns how many failed."""
    now = now or timezone.now()
    minutes = settings.NSMAP_COMMAND_ANSWER_MINUTES
    due = Command.objects.exclude(status__in=FINISHED).filter(created__lt=now - timedelta(minutes=minutes))
    failed = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            command = Command.objects.select_for_update().filter(pk=pk).exclude(status__in=FINISHED).first()
            if command is None:
                continue  # its result came meanwhile
            command.status, command.finished_at = CommandStatus.FAILED, now
            command.error = f"no answer from the agent on {command.node} within {minutes:g} minutes"
            command.save(update_fields=["status", "finished_at", "error"])
            transaction.on_commit(functools.partial(announce, command))
            failed += 1
    return failed


def take_result(body: str, signature: str | None) -> None:
    """Apply an agent's result; one that is rejected is logged, never raised: whoever hands them
    over (the Celery task, the embedded results thread) goes on with the next."""
    try:
        apply_result(body, signature)
    except ResultRejected as exc:
        log.warning("rejected a command result: %s", exc)


def to_json(command: Command) -> dict[str, Any]:
    def stamp(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(command.pk),
        "node": command.node,
        "verb": command.verb,
        "args": command.args,
        "status": command.status,
        "error": command.error or None,
        "result": command.result,
        "actor": command.actor_name,
        "request_id": command.request_id or None,
        "idempotency_key": command.idempotency_key or None,
        "timings": {
            "created": stamp(command.created),
            "sent": stamp(command.sent_at),
            "started": stamp(command.started_at),
            "finished": stamp(command.finished_at),
            "agent": command.agent_timings,
        },
    }


def announce(command: Command) -> None:
    """``{"type": "command", "command": ...}`` to every open page (webui.live.consumers), without
    the idempotency key: that is the actor's own business (the API shows it to them)."""
    shown = {k: v for k, v in to_json(command).items() if k != "idempotency_key"}
    text = json.dumps({"type": "command", "command": shown}, separators=(",", ":"))
    broadcast({"type": "topology.command", "text": text})


ATTRIBUTION_WINDOW = timedelta(seconds=30)  # a kernel event this long after a command finished is still its effect


def _referenced(value: Any) -> Iterator[str]:
    """Every string inside a command's args or result (graph ids among them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _referenced(item)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced(item)


@dataclass(frozen=True, slots=True)
class Touched:
    """What the change log knows of one changed object, for attribution: its graph id and what
    happened to it; for an interface the alias nsmap marks with, its name, the ids it is tied
    to (its peer before and after, its id before a move) and its namespace's id; for a namespace
    its /run/netns names."""

    id: str
    alias: str | None = None
    name: str | None = None
    related: tuple[str, ...] = ()
    netns_names: tuple[str, ...] = ()
    action: str = "changed"
    namespace: str | None = None
    kind: str = "interface"  # or "namespace"


NETNS_VERBS = ("netns.create", "netns.delete")
CREATES = ("veth.create", "bridge.create")
# The verbs that can add, remove or move an object of a kind (veth.create and bridge.create
# remove what they made when a later step fails); any verb can change one.
CAUSES: dict[tuple[str, str], frozenset[str]] = {
    ("interface", "added"): frozenset({"veth.create", "bridge.create", "link.move"}),
    ("interface", "moved"): frozenset({"link.move"}),
    ("interface", "removed"): frozenset(
        {"link.delete", "bridge.delete", "link.move", "netns.delete", "veth.create", "bridge.create"}
    ),
    ("namespace", "added"): frozenset({"netns.create"}),
    ("namespace", "removed"): frozenset({"netns.delete"}),
}


def attribute_changes(node: str, changed: Iterable[Touched], now: datetime | None = None) -> dict[str, tuple[str, str]]:
    """For the change log: {object id: ("user:<name>", command id)} for the changed objects of
    ``node`` that are the doing of a command in flight (or finished within ATTRIBUTION_WINDOW).

    The kernel's events can reach the change log before the command's result does, so an object
    is matched by what a command names in its args as well as in its result:
    - its own id;
    - an id it is tied to: a veth end goes or changes with its peer (deleting one end removes
      both); a moved interface had the id link.move names;
    - its mark, the alias ``nsmap:<command id>`` of what a command created;
    - an interface appearing while a veth.create or bridge.create is in flight: the name the
      command gives it (agent/actions.py creates under the final names);
    - an interface a link.move in flight brings in: the alias and name of the one it moves;
    - a namespace: the name a netns verb gives.
    - an interface removed with its namespace: that namespace's id (a netns.delete's result names
      it), or the namespace's own removal in the same write (when the result comes later);
    - a removal: the command an earlier record of the same object was given to (one query, only
      for removals nothing else matched).
    Of the matching commands whose verb can do what happened (only a delete, or a create undoing
    itself, removes; any verb changes), the latest is the cause. One query on the node's recent
    commands (two more while a link.move is in flight and an interface appears); none in flight
    costs nothing more."""
    recent = (now or timezone.now()) - ATTRIBUTION_WINDOW
    commands = list(
        Command.objects.filter(node=node, created__gte=recent - timedelta(minutes=10))
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=recent))
        .only("pk", "verb", "args", "result", "actor_name", "created", "finished_at", "status")
    )
    if not commands:
        return {}  # the usual case: ``changed`` (a generator at a snapshot's size) is never read
    objects = list(changed)
    naming: dict[str, list[Command]] = {}
    by_netns: dict[str, list[Command]] = {}
    for command in commands:
        for text in {*_referenced(command.args), *_referenced(command.result)}:
            naming.setdefault(text, []).append(command)
        if command.verb in NETNS_VERBS and isinstance(command.args, dict):
            by_netns.setdefault(str(command.args.get("name")), []).append(command)
    by_mark = {f"{MARK}{command.pk}": command for command in commands}
    being_made: dict[str, list[tuple[Command, str]]] = {}
    for command in commands:
        if command.finished_at is None:
            for name, where in _names_made(command):
                being_made.setdefault(name, []).append((command, where))
    by_name = any(":" not in where for made in being_made.values() for _, where in made)
    netns_names = _netns_names(node) if by_name else {}
    arriving = _moving(node, commands) if any(o.action == "added" for o in objects) else {}
    found: dict[str, tuple[str, str]] = {}

    def settle(obj: Touched, matching: list[Command]) -> None:
        verbs = CAUSES.get((obj.kind, obj.action))
        causes = [c for c in matching if (verbs is None or c.verb in verbs) and not _finished_create(c, obj.action)]
        if causes:
            cause = max(causes, key=lambda c: c.created)
            found[obj.id] = (f"user:{cause.actor_name}", str(cause.pk))

    for obj in objects:
        matching = [*naming.get(obj.id, ()), *(c for r in obj.related for c in naming.get(r, ()))]
        matching += [by_mark[obj.alias]] if obj.alias in by_mark else []
        if obj.action == "added":
            matching += [
                c for c, where in being_made.get(obj.name or "", ()) if _in_namespace(where, obj.namespace, netns_names)
            ]
            matching += arriving.get((obj.alias, obj.name or ""), []) if obj.alias else []
        matching += [c for n in obj.netns_names for c in by_netns.get(n, ())]
        settle(obj, matching)
    for obj, earlier in _given_before(
        node, [o for o in objects if o.action == "removed" and o.id not in found], commands
    ):
        settle(obj, earlier)
    gone = {o.id for o in objects if o.action == "removed" and o.id in found}  # namespaces among them
    for obj in objects:  # what went with a namespace a command removed (its result may come later)
        if obj.action == "removed" and obj.id not in found and obj.namespace in gone:
            found[obj.id] = found[obj.namespace]
    return found


def _given_before(node: str, removed: list[Touched], commands: list[Command]) -> list[tuple[Touched, list[Command]]]:
    """For removals nothing else matched: the commands an earlier record of the same object (or of
    an interface's namespace) was given to. A netns.delete first takes the namespace's /run/netns
    name (a "changed" record, matched by that name); the namespace and its lo go a moment later,
    maybe in writes of their own, with no name left and before the command's result names its id.
    CAUSES still decides: a namespace made by netns.create is not the cause of a removal in it."""
    if not removed:
        return []
    from webui.changelog.models import ChangeRecord

    by_pk = {str(c.pk): c for c in commands}
    ids = {o.id for o in removed} | {o.namespace for o in removed if o.namespace}
    earlier: dict[str, list[Command]] = {}
    rows = ChangeRecord.objects.filter(node=node, object_id__in=ids, request_id__in=list(by_pk))
    for object_id, request_id in rows.values_list("object_id", "request_id"):
        earlier.setdefault(object_id, []).append(by_pk[str(request_id)])
    found = [(o, [*earlier.get(o.id, ()), *earlier.get(o.namespace or "", ())]) for o in removed]
    return [(o, commands_of) for o, commands_of in found if commands_of]


def _finished_create(command: Command, action: str) -> bool:
    """A create removes only as its own undo: once done, what it made is no longer its doing to
    remove (an ``ip link del`` seconds later is someone else's)."""
    return action == "removed" and command.verb in CREATES and command.status == CommandStatus.DONE


def _names_made(command: Command) -> list[tuple[str, str]]:
    """(name, where) of each interface a veth.create or bridge.create gives a name: where is the
    namespace as its args name it (a graph id or a /run/netns name), or for a bridge port the
    bridge's interface id (its namespace's inode is in it). The args were validated."""
    args = command.args if isinstance(command.args, dict) else {}
    ends = [args.get("a"), args.get("b")] if command.verb == "veth.create" else [args]
    if command.verb not in CREATES:
        return []
    return [
        (str(end["name"]), str(end.get("namespace") or end.get("bridge") or ""))
        for end in ends
        if isinstance(end, dict) and "name" in end
    ]


def _in_namespace(where: str, namespace: str | None, netns_names: dict[str, set[str]]) -> bool:
    """Whether ``where`` (as a command's args name a namespace) is ``namespace`` (a graph id)."""
    if namespace is None:
        return True  # a record without its namespace: the name alone
    inode = namespace.rsplit("ns:", 1)[-1]
    if "ns:" in where:
        return where.rsplit("ns:", 1)[-1] == inode
    if "if:" in where:  # a bridge port: the bridge's namespace
        return where.rsplit("if:", 1)[-1].split(":")[0] == inode
    return where in netns_names.get(namespace, set())


def _netns_names(node: str) -> dict[str, set[str]]:
    """{namespace graph id: its /run/netns names} of the node, for creates that name a namespace so."""
    from webui.topology.models import Namespace

    rows = Namespace.objects.filter(node__name=node).values_list("key", "names")
    return {f"{node}/{key}": set(names) for key, names in rows if names}


def _moving(node: str, commands: list[Command]) -> dict[tuple[str, str], list[Command]]:
    """{(alias, name): link.move commands in flight} of the interfaces those commands move.

    A move is a removal in one namespace and an addition in another; when the two reach the
    server apart, the addition carries neither the id the command names (it is new) nor the
    command's mark (the alias names the command that created the interface). What ties it to the
    move is the moved interface's alias and name: read from its row while it is still there, or
    from the record of its removal (already the command's, by the id it names)."""
    from webui.changelog.models import ChangeRecord
    from webui.topology.models import Interface

    moving = {
        str(c.args["interface"]).split("/", 1)[-1]: c
        for c in commands
        if c.verb == "link.move" and c.finished_at is None and isinstance(c.args, dict) and "interface" in c.args
    }
    if not moving:
        return {}
    out: dict[tuple[str, str], list[Command]] = {}
    for key, alias, name in Interface.objects.filter(node__name=node, key__in=list(moving)).values_list(
        "key", "alias", "name"
    ):
        if alias:
            out.setdefault((alias, name), []).append(moving[key])
    gone = ChangeRecord.objects.filter(
        request_id__in=[str(c.pk) for c in moving.values()], object_key__in=list(moving), action="removed"
    )
    for key, before in gone.values_list("object_key", "before"):
        if isinstance(before, dict) and before.get("alias"):
            out.setdefault((before["alias"], str(before.get("name"))), []).append(moving[key])
    return out
