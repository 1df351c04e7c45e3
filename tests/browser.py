"""Headless Chromium and the static/ server, shared by the end-to-end tests and bench/ui.py.

Kernel-free and Django-free: the bench imports it without pytest or a configured project.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parents[1] / "static"
CHROMIUM = "/usr/bin/chromium"  # Debian's build; Playwright's own download is never used
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Chromium cancels requests in flight when the host's network changes (RTM_NEWADDR/NEWLINK in
# the root namespace: exactly what the kernel tests and benches on this machine do). That is the
# environment, not the page: such console lines are kept apart and fail neither a test nor a bench.
NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"


def launch(playwright: Any) -> Any:
    """Debian's Chromium through a running ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Static file handler without the per-request log lines."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve_static() -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve static/ on a free local port (the harness page needs http:// for ES modules);
    returns the server (``shutdown()`` it) and its base URL."""
    handler = functools.partial(_Quiet, directory=str(STATIC))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def load_until_ready(page: Any, url: str, goto: Callable[[Any, str], Any] = lambda page, url: page.goto(url)) -> None:
    """Load an nsmap page until it says it is ready (``window.nsmapReady``), again when a host
    network change cancelled one of its scripts (see NETWORK_CHANGED)."""
    for attempt in range(4):
        goto(page, url)
        try:
            page.wait_for_function("() => window.nsmapReady === true", timeout=15_000)
            return
        except Exception:
            if attempt == 3:
                raise
