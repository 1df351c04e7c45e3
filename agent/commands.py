"""Commands from the server: validated completely before anything runs.

The agent runs as root on every host, so a command is untrusted input even when it comes from
our own server: wrong type, unknown command, extra fields, oversized bodies, replays and
malformed Celery envelopes are rejected with a clear reason, and nothing is executed.
The only command here is "resync" (publish a fresh snapshot); lab commands (task
LAB_COMMAND_TASK on the same queue) go to agent/lab.py, which authenticates them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.labwire import LAB_COMMAND_TASK
from agent.protocol import PROTOCOL_VERSION

if TYPE_CHECKING:
    from agent.lab import LabCommands

log = logging.getLogger("nsmap.agent.commands")

COMMAND_TASK = "nsmap.agent_command"
MAX_BODY = 64 * 1024
KNOWN_COMMANDS = ("resync",)
ALLOWED_FIELDS = {"v", "type", "command", "id"}
REMEMBERED_IDS = 1024


class CommandError(ValueError):
    """Why a command was rejected; nothing was done."""


@dataclass(frozen=True, slots=True)
class Command:
    command: str
    id: str


def parse_command(body: Any) -> Command:
    """Check a command body (the JSON text) against the contract; raise CommandError with the reason."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise CommandError("command body is not UTF-8") from None
    if not isinstance(body, str):
        raise CommandError(f"command body must be JSON text, got {type(body).__name__}")
    if len(body) > MAX_BODY:
        raise CommandError(f"command body of {len(body)} bytes exceeds {MAX_BODY}")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise CommandError(f"command body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError("a command is a JSON object")
    extra = set(data) - ALLOWED_FIELDS
    if extra:
        raise CommandError(f"unexpected fields {sorted(extra)!r}")
    if data.get("v") != PROTOCOL_VERSION or isinstance(data.get("v"), bool):
        raise CommandError(f"protocol version {data.get('v')!r}, expected {PROTOCOL_VERSION}")
    if data.get("type") != "command":
        raise CommandError(f"type {data.get('type')!r}, expected 'command'")
    name = data.get("command")
    if not isinstance(name, str) or name not in KNOWN_COMMANDS:
        raise CommandError(f"unknown command {name!r:.60}; this agent knows {', '.join(KNOWN_COMMANDS)}")
    ident = data.get("id")
    if not isinstance(ident, str):
        raise CommandError("command id must be a UUID string")
    try:
        canonical = str(uuid.UUID(ident))
    except ValueError:
        raise CommandError(f"command id {ident!r:.60} is not a UUID") from None
    return Command(command=name, id=canonical)


def _task_args(body: Any, task: str) -> list[Any]:
    """The positional args of a Celery protocol v2 body [args, kwargs, embed] (no kwargs allowed)."""
    if not isinstance(body, (list, tuple)) or len(body) != 3:
        raise CommandError("not a Celery protocol 2 body [args, kwargs, embed]")
    args, kwargs, _embed = body
    if kwargs:
        raise CommandError(f"the {task} task takes no keyword arguments")
    if not isinstance(args, (list, tuple)):
        raise CommandError(f"the {task} task's args are a list")
    return list(args)


def parse_celery_message(body: Any, headers: Mapping[str, Any] | None) -> str:
    """The command text out of a Celery protocol v2 message: args [text]."""
    task = (headers or {}).get("task")
    if task != COMMAND_TASK:
        raise CommandError(f"task {task!r:.60} is not {COMMAND_TASK!r}")
    args = _task_args(body, "command")
    if len(args) != 1 or not isinstance(args[0], str):
        raise CommandError("the command task takes exactly one argument, the JSON text")
    text: str = args[0]
    return text


def parse_lab_celery_message(body: Any) -> tuple[str, str | None]:
    """A lab command's text and signature out of a Celery protocol v2 body: args [text, signature]."""
    args = _task_args(body, "lab command")
    if len(args) != 2 or not isinstance(args[0], str):
        raise CommandError("the lab command task takes two arguments, the JSON text and its signature")
    if args[1] is not None and not isinstance(args[1], str):
        raise CommandError("a lab command's signature is a hex string")
    return args[0], args[1]


class CommandExecutor:
    """Runs validated commands; remembers recent ids so a redelivered command runs once."""

    def __init__(self, handlers: Mapping[str, Callable[[Command], None]]) -> None:
        unknown = set(handlers) - set(KNOWN_COMMANDS)
        if unknown:
            raise ValueError(f"handlers for unknown commands {sorted(unknown)}")
        self.handlers = dict(handlers)
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.rejected = 0
        self.executed = 0

    def handle(self, body: Any) -> dict[str, Any]:
        """Validate and execute; the outcome as {"ok", "id", "command", "error"} (never raises)."""
        try:
            command = parse_command(body)
        except CommandError as exc:
            self.rejected += 1
            log.warning("rejected command: %s", exc)
            return {"ok": False, "id": None, "command": None, "error": str(exc)}
        if command.id in self.seen:
            log.info("command %s (%s) already executed; ignored", command.id, command.command)
            return {"ok": True, "id": command.id, "command": command.command, "error": None, "duplicate": True}
        handler = self.handlers.get(command.command)
        if handler is None:
            self.rejected += 1
            return {"ok": False, "id": command.id, "command": command.command, "error": "not supported here"}
        self.seen[command.id] = None
        while len(self.seen) > REMEMBERED_IDS:
            self.seen.popitem(last=False)
        try:
            handler(command)
        except Exception as exc:
            log.exception("command %s (%s) failed", command.id, command.command)
            return {"ok": False, "id": command.id, "command": command.command, "error": f"failed: {exc}"}
        self.executed += 1
        log.info("executed command %s (%s)", command.id, command.command)
        return {"ok": True, "id": command.id, "command": command.command, "error": None}


class CommandConsumer:
    """Consumes `node.<NODE_NAME>` with kombu in a thread of its own; reconnects forever.

    The queue is declared as Celery declares it for `send_task(queue="node.X")` (a direct
    exchange and routing key both named after the queue), so either side may declare it first.
    """

    def __init__(
        self,
        broker_url: str,
        node: str,
        executor: CommandExecutor,
        poll_seconds: float = 5.0,
        lab: LabCommands | None = None,
    ) -> None:
        self.broker_url = broker_url
        self.queue_name = f"node.{node}"
        self.executor = executor
        self.lab = lab
        # how long one BRPOP waits on the broker: a command arrives at once either way, but
        # each empty wait costs kombu about a millisecond (0.1% of a core at one a second);
        # stopping waits for the one in progress
        self.poll_seconds = poll_seconds
        self._stop = False
        self._thread: threading.Thread | None = None

    def _on_message(self, body: Any, message: Any) -> None:
        headers = getattr(message, "headers", None) or {}
        if self.lab is not None and headers.get("task") == LAB_COMMAND_TASK:
            try:
                text, signature = parse_lab_celery_message(body)
            except CommandError as exc:
                log.warning("rejected lab message on %s: %s", self.queue_name, exc)
                self.lab.rejected += 1
            else:
                self.lab.handle(text, signature)
            message.ack()
            return
        try:
            text = parse_celery_message(body, getattr(message, "headers", None))
        except CommandError as exc:
            log.warning("rejected message on %s: %s", self.queue_name, exc)
            self.executor.rejected += 1
        else:
            self.executor.handle(text)
        message.ack()  # a rejected command stays rejected; redelivery would not help

    def run(self) -> None:
        from kombu import Connection, Exchange, Queue

        queue = Queue(self.queue_name, Exchange(self.queue_name, type="direct"), routing_key=self.queue_name)
        delay = 0.5
        while not self._stop:
            try:
                with Connection(self.broker_url, connect_timeout=2, transport_options={"socket_timeout": 5}) as conn:
                    conn.ensure_connection(max_retries=1)
                    # the redis transport's own knob (polling_interval) would also sleep that
                    # long between empty polls, delaying a command: set the BRPOP wait alone (an
                    # attribute of kombu's Redis channel, not of the StdChannel its type declares)
                    conn.default_channel.brpop_timeout = self.poll_seconds  # type: ignore[attr-defined]
                    with conn.Consumer([queue], callbacks=[self._on_message], accept=["json"]):
                        delay = 0.5
                        while not self._stop:
                            try:
                                conn.drain_events(timeout=self.poll_seconds + 1.0)
                            except TimeoutError:
                                continue
            except Exception as exc:  # broker away: keep trying, the watcher does not care
                if self._stop:
                    break
                log.warning(
                    "command queue %s: %s (broker away, or an item kombu cannot decode); reconnecting in %.1fs",
                    self.queue_name,
                    exc,
                    delay,
                )
                for _ in range(int(delay * 10)):
                    if self._stop:
                        break
                    time.sleep(0.1)
                delay = min(10.0, delay * 2)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="nsmap-commands", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
