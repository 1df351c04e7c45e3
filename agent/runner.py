"""The live agent: watcher thread + publisher thread (+ command consumer in distributed mode).

``AgentRunner`` is what the server's embedded mode constructs (with a CallableTransport) and
what `python -m agent run` runs (with a CeleryTransport and the kombu command consumer).
Nothing here imports Django.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from agent.commands import Command, CommandConsumer, CommandExecutor
from agent.env import celery_broker_url
from agent.inbox import INGEST_QUEUE
from agent.lab import LabCommands, Outcome
from agent.namespaces import NAMED_DIRS
from agent.protocol import NamespaceKind
from agent.publisher import CeleryTransport, Publisher, Transport
from agent.settings import AgentSettings, SettingsError
from agent.watch import Watcher

log = logging.getLogger("nsmap.agent")


class AgentRunner:
    """Start/stop the live agent in background threads; ``handle_command`` for embedded commands."""

    def __init__(
        self,
        transport: Transport,
        node: str,
        reconcile_seconds: float = 30.0,
        heartbeat_seconds: float = 5.0,
        coalesce_ms: float = 5.0,
        key: str | None = None,
        commands_url: str | None = None,
        named_dirs: Iterable[tuple[str, NamespaceKind]] = NAMED_DIRS,
        lab: LabCommands | None = None,
    ) -> None:
        self.node = node
        self.lab = lab
        self.transport = transport
        self.publisher = Publisher(
            transport, node, key=key, coalesce_ms=coalesce_ms, heartbeat_seconds=heartbeat_seconds
        )
        self.reconcile_seconds = reconcile_seconds
        self.named_dirs = tuple(named_dirs)
        self.watcher = self._new_watcher()
        self.executor = CommandExecutor({"resync": self._resync})
        # the consumer speaks kombu, which spells a unix:// Redis URL its own way
        self.consumer = (
            CommandConsumer(celery_broker_url(commands_url), node, self.executor, lab=lab) if commands_url else None
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def run_id(self) -> str:
        return self.publisher.run_id

    def start(self, timeout: float = 60.0) -> None:
        """Scan, then follow in the background; returns once the first snapshot is queued.

        Raises what the first scan raised (e.g. no permission for netlink).
        """
        if self._thread is not None:
            raise RuntimeError("already started")
        self.publisher.start()
        self._thread = threading.Thread(target=self._watch, name="nsmap-watch", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError("the first inventory took too long")
        if self._error is not None:
            self.stop()
            raise self._error
        if self.consumer is not None:
            self.consumer.start()

    def _watch(self) -> None:
        """Run the watcher; if it ever fails, start a fresh one (full scan, new snapshot) after
        a backoff rather than leaving a heartbeating agent that no longer watches."""
        try:
            self.watcher.open()
        except BaseException as exc:
            self._error = exc
            self.watcher.close()
            self._started.set()
            return
        self._started.set()
        delay = 1.0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.watcher.run(self._stop)
            except Exception:
                log.exception("the watcher failed; restarting it with a full scan in %.0fs", delay)
            finally:
                self.watcher.close()
            if self._stop.wait(delay):
                break
            delay = 1.0 if time.monotonic() - started > 300 else min(60.0, delay * 2)
            self.watcher = self._new_watcher()
            try:
                self.watcher.open()  # publisher.reset(): the next message is a fresh snapshot
            except Exception:
                log.exception("the watcher cannot restart yet")
                self.watcher.close()
                self.watcher = self._new_watcher()
                self._stop.wait(delay)

    def _new_watcher(self) -> Watcher:
        return Watcher(self.node, self.publisher, reconcile_seconds=self.reconcile_seconds, named_dirs=self.named_dirs)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop all threads, then give the publisher a moment to send what is pending."""
        self._stop.set()
        self.watcher.wake()
        if self.consumer is not None:
            self.consumer.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        log.info("watcher stats: %s", json.dumps(self.watcher_stats()))
        self.publisher.flush(min(2.0, timeout))
        self.publisher.stop(timeout)
        self.transport.close()
        if self.lab is not None:
            self.lab.actions.close()

    def watcher_stats(self) -> dict[str, Any]:
        """The watcher's counters and CPU per kind of work (ms): what an operator or a benchmark
        needs to see where an agent's time goes."""
        cpu = {k: round(v * 1000.0, 1) for k, v in self.watcher.cpu.items()}
        return {**self.watcher.stats, "cpu_ms": cpu, "sent": dict(self.publisher.sent_counts)}

    @property
    def failed(self) -> BaseException | None:
        return self._error

    def request_snapshot(self) -> None:
        """Publish a fresh snapshot (the server saw a gap or a new run)."""
        self.publisher.request_snapshot()

    def request_reconcile(self) -> None:
        """Rescan the host now and publish what differs."""
        self.watcher.request_reconcile()

    def handle_command(self, body: str) -> dict[str, Any]:
        """Embedded mode: the server hands a command's JSON text here (validated, never trusted)."""
        return self.executor.handle(body)

    def handle_lab_command(self, body: str, signature: str | None) -> Outcome:
        """Embedded mode: a signed lab command handed over in-process (authenticated all the same)."""
        if self.lab is None:
            return Outcome("rejected", "this agent runs no lab commands (no NSMAP_NODE_KEY)")
        return self.lab.handle(body, signature)

    def _resync(self, _command: Command) -> None:
        self.request_snapshot()


def main(argv: list[str] | None = None) -> int:
    """`python -m agent run`: follow the kernel and publish through Celery until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m agent run",
        description="Follow this host's namespaces and publish them to the nsmap server through Redis. "
        "Settings: NODE_NAME, REDIS_URL, NSMAP_NODE_KEY, NSMAP_RECONCILE_SECONDS (30), "
        "NSMAP_HEARTBEAT_SECONDS (5), NSMAP_COALESCE_MS (5).",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = AgentSettings.from_env()
    except SettingsError as exc:
        print(f"nsmap agent: {exc}", file=sys.stderr)
        return 2
    if settings.node_key is None:
        log.warning("NSMAP_NODE_KEY is not set: messages go unsigned (a distributed server rejects them)")
    try:
        lab = lab_commands(settings.node, settings.node_key, settings.redis_url)
    except ValueError as exc:
        print(f"nsmap agent: {exc}", file=sys.stderr)
        return 2
    runner = AgentRunner(
        CeleryTransport(settings.redis_url, node=settings.node),
        settings.node,
        reconcile_seconds=settings.reconcile_seconds,
        heartbeat_seconds=settings.heartbeat_seconds,
        coalesce_ms=settings.coalesce_ms,
        key=settings.node_key,
        commands_url=settings.redis_url,
        lab=lab,
    )
    stopping = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        runner.start()
    except PermissionError as exc:
        print(f"nsmap agent: {exc}; run as root (CAP_NET_ADMIN, CAP_SYS_ADMIN)", file=sys.stderr)
        return 1
    log.info("agent %s running (run %s, broker %s)", settings.node, runner.run_id, _redacted(settings.redis_url))
    gc.freeze()  # modules, Celery and the first inventory live as long as the process: not worth re-walking
    stopping.wait()  # no timeout: the signal handler wakes it (an idle agent wakes for nothing)
    failed = runner.failed
    runner.stop()
    return 1 if failed is not None else 0


def lab_commands(node: str, key: str | None, redis_url: str) -> LabCommands | None:
    """The lab-command runner when this node has a key (commands must be signed with it), else None.

    Results go to the server as their own Celery task (labwire.COMMAND_RESULT_TASK), from a
    producer of their own: the publisher's transport keeps per-send state on another thread.
    """
    if key is None:
        return None
    from celery import Celery

    from agent.actions import Actions, Policy
    from agent.labwire import COMMAND_RESULT_TASK

    policy = Policy.from_env()  # ValueError naming the variable
    app = Celery("nsmap-agent-results", broker=celery_broker_url(redis_url), set_as_current=False)

    def report(body: str, signature: str | None) -> None:
        app.send_task(COMMAND_RESULT_TASK, args=[body, signature], queue=INGEST_QUEUE, retry=False)

    return LabCommands(node, key, Actions(node, policy), report=report)


def _redacted(url: str) -> str:
    """The broker URL without its password, for logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
