"""``manage.py nsmap_history checkpoint|prune|maintain``: the history's periodic work.

``maintain --every N --parent PID`` is what ``nsmap_serve`` runs beside itself in embedded mode
(Celery beat's job in distributed mode): a checkpoint replays every record since the last one,
seconds of CPU when the kernel is busy, and in the server's own process that held the GIL away
from every open page's patches (bench/load.py, 60 s: p99 98.7 ms with it in the server, 28-36 ms
beside it). It stops when the server is gone.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from webui.changelog.timetravel import maintain, prune, take_checkpoints

log = logging.getLogger("nsmap.history")


class Command(BaseCommand):
    help = (
        "Write due history checkpoints (checkpoint), delete records older than the retention (prune), "
        "or both as the periodic work does (maintain; --every N repeats it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["checkpoint", "prune", "maintain"])
        parser.add_argument("--force", action="store_true", help="checkpoint: write one now even if none is due")
        parser.add_argument("--days", type=float, help="prune: keep this many days (default NSMAP_HISTORY_DAYS)")
        parser.add_argument("--every", type=float, help="maintain: repeat every this many seconds")
        parser.add_argument("--parent", type=int, help="maintain --every: stop when this process is gone")

    def handle(
        self,
        *args: Any,
        action: str,
        force: bool,
        days: float | None,
        every: float | None,
        parent: int | None,
        **options: Any,
    ) -> None:
        if action == "maintain":
            self._maintain(every, parent)
            return
        if action == "checkpoint":
            written = take_checkpoints(force=force)
            self.stdout.write(f"{written} checkpoint(s) written")
            return
        if days is not None and days <= 0:
            raise CommandError(f"--days {days}: must be more than 0")
        result = prune(days=days)
        self.stdout.write(f"pruned {result['records']} record(s) and {result['checkpoints']} checkpoint(s)")

    def _maintain(self, every: float | None, parent: int | None) -> None:
        if every is not None and every <= 0:
            raise CommandError(f"--every {every}: must be more than 0")
        while True:
            if every is not None:
                deadline = time.monotonic() + every
                while time.monotonic() < deadline:
                    if parent is not None and os.getppid() != parent:
                        return  # the server is gone (this process was handed to init)
                    time.sleep(min(1.0, every))
            try:
                self.stdout.write(f"{maintain()}")
            except Exception:  # the next round tries again; one failure must not end the history
                if every is None:
                    raise
                log.exception("history maintenance failed")
            finally:
                close_old_connections()
            if every is None:
                return
