"""`manage.py nsmap_serve`: Daphne on 127.0.0.1:$PORT serving webui.asgi:application, with
nsmap's limits (webui/limits.py: 414 for long URLs, the inbound WebSocket cap inside Daphne, a
client that stops reading dropped). Both modes serve through it; compose and the docs too.

Embedded mode (REDIS_URL unset) also runs the local agent in this process: its transport calls
the ingest directly (trusted: no key), its commands arrive through webui.live.embedded, a thread
marks silent nodes stale and fails unanswered commands, and the history's periodic work runs in a
process beside it (``nsmap_history maintain``). Broadcasts made in the agent's thread are
scheduled on Daphne's event loop, where the in-memory channel layer lives. Distributed mode runs
Daphne only (Celery beat does the periodic work).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

log = logging.getLogger("nsmap.serve")
# what daphne's --proxy-headers sets
PROXY_HEADERS = {
    "proxy_forwarded_address_header": "X-Forwarded-For",
    "proxy_forwarded_port_header": "X-Forwarded-Port",
    "proxy_forwarded_proto_header": "X-Forwarded-Proto",
}


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise CommandError(f"PORT={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise CommandError(f"PORT={raw!r} is not a port number")
    return port


def restrict_files(database: Mapping[str, Any], var_dir: Path) -> None:
    """Owner-only: what this process creates from now on (umask), var/, and an SQLite database
    with its WAL and shared-memory files even if an older version left them readable (they hold
    session keys, node keys and password hashes)."""
    os.umask(0o077)
    paths = [var_dir]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        paths += [Path(f"{database['NAME']}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]
    for path in paths:
        if path.exists():
            path.chmod(0o700 if path.is_dir() else 0o600)


class Command(BaseCommand):
    help = "Serve nsmap with Daphne (and, in embedded mode, the local agent in the same process)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--no-agent", action="store_true", help="embedded mode without the local agent")
        parser.add_argument(
            "--proxy-headers",
            action="store_true",
            help="take the client's address, port and scheme from X-Forwarded-For/-Port/-Proto "
            "(only behind a reverse proxy that sets them)",
        )

    def handle(self, *args: Any, host: str, port: str, no_agent: bool, proxy_headers: bool, **options: Any) -> None:
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server, twisted_loop  # first: it installs the asyncio reactor

        from webui import limits
        from webui.asgi import application
        from webui.live import embedded

        port_number = _port(port)
        limits.install()
        restrict_files(settings.DATABASES["default"], settings.VAR_DIR)
        runner = None
        history: subprocess.Popen[bytes] | None = None
        stop = threading.Event()
        if settings.EMBEDDED:
            embedded.set_server_loop(twisted_loop)
            if not no_agent:
                runner = self._start_agent()
            threading.Thread(target=self._stale_loop, args=(stop,), name="nsmap-stale", daemon=True).start()
            history = self._start_history()
        mode = "embedded" if settings.EMBEDDED else "distributed"
        self.stdout.write(f"nsmap ({mode}) serving http://{host}:{port_number}/ (node {settings.NODE_NAME})")
        server = Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port_number),
            signal_handlers=True,
            verbosity=0,
            # what a client may send; sending is not limited (webui/limits.py)
            websocket_max_message_size=settings.NSMAP_WS_MAX_INBOUND,
            websocket_max_frame_size=settings.NSMAP_WS_MAX_INBOUND,
            **(PROXY_HEADERS if proxy_headers else {}),
        )
        try:
            server.run()
        finally:
            stop.set()
            if history is not None:
                history.terminate()
            if runner is not None:
                embedded.clear()
                runner.stop()

    def _start_agent(self) -> Any:
        """The local agent with an in-process transport; the server keeps serving if it cannot start."""
        try:
            from agent.commands import COMMAND_TASK
            from agent.publisher import CallableTransport
            from agent.runner import AgentRunner
            from agent.settings import AgentSettings, SettingsError
        except ImportError as exc:
            self.stderr.write(f"nsmap: the local agent is not available ({exc}); serving without it")
            return None
        from webui.commands.local import local_lab, serve_local_lab
        from webui.live import embedded
        from webui.topology.ingest import ingest

        try:
            agent_settings = AgentSettings.from_env()
            lab = local_lab(settings.NODE_NAME)
        except (SettingsError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

        def transport(body: str, signature: str | None) -> None:
            ingest(body, signature, trusted=True)

        runner = AgentRunner(
            CallableTransport(transport),
            settings.NODE_NAME,
            reconcile_seconds=agent_settings.reconcile_seconds,
            heartbeat_seconds=agent_settings.heartbeat_seconds,
            coalesce_ms=agent_settings.coalesce_ms,
            lab=lab,
        )
        embedded.register(COMMAND_TASK, runner.handle_command)
        serve_local_lab(runner)
        try:
            runner.start()
        except PermissionError as exc:
            embedded.clear()
            self.stderr.write(
                f"nsmap: the local agent cannot read the kernel ({exc}); run as root "
                "(CAP_NET_ADMIN, CAP_SYS_ADMIN). Serving without it."
            )
            return None
        except Exception as exc:
            embedded.clear()
            log.exception("the local agent failed to start")
            self.stderr.write(f"nsmap: the local agent failed to start ({exc}); serving without it")
            return None
        self.stdout.write(f"nsmap: local agent {settings.NODE_NAME} running (run {runner.run_id})")
        return runner

    def _stale_loop(self, stop: threading.Event) -> None:
        from django.db import close_old_connections

        from webui.commands.service import expire_unanswered
        from webui.topology.liveness import mark_stale

        interval = max(1.0, settings.NSMAP_STALE_AFTER / 2)
        while not stop.wait(interval):
            try:
                mark_stale()
                expire_unanswered()
            except Exception:
                log.exception("marking stale nodes or unanswered commands failed")
            finally:
                close_old_connections()

    def _start_history(self) -> subprocess.Popen[bytes]:
        """What Celery beat does in distributed mode (checkpoints, retention), in a process of its
        own: a checkpoint's replay in this one would hold the GIL away from the event loop."""
        argv = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "nsmap_history", "maintain"]
        argv += ["--every", "60", "--parent", str(os.getpid())]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL)
