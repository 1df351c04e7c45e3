"""``manage.py nsmap_history checkpoint|prune``: the history's periodic work, by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webui.changelog.timetravel import prune, take_checkpoints


class Command(BaseCommand):
    help = "Write due history checkpoints (checkpoint) or delete records older than the retention (prune)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["checkpoint", "prune"])
        parser.add_argument("--force", action="store_true", help="checkpoint: write one now even if none is due")
        parser.add_argument("--days", type=float, help="prune: keep this many days (default NSMAP_HISTORY_DAYS)")

    def handle(self, *args: Any, action: str, force: bool, days: float | None, **options: Any) -> None:
        if action == "checkpoint":
            written = take_checkpoints(force=force)
            self.stdout.write(f"{written} checkpoint(s) written")
            return
        if days is not None and days <= 0:
            raise CommandError(f"--days {days}: must be more than 0")
        result = prune(days=days)
        self.stdout.write(f"pruned {result['records']} record(s) and {result['checkpoints']} checkpoint(s)")
