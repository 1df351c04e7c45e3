"""Embedded mode keeps the history (checkpoints, retention) in a process beside the server, not
in it: a checkpoint replays every record since the last one, and in the server's process that
held the GIL away from every open page (bench/load.py). The process goes when the server goes,
even when the server is killed outright."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.distributed.harness import EmbeddedServer, wait_until
from tests.webui.test_serve_embedded import server  # noqa: F401  (the fixture)
from webui.changelog.models import Checkpoint


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append((int(entry.name), cmdline))
    return found


def test_it_maintains_the_history_in_a_process_that_ends_with_the_server(server: EmbeddedServer) -> None:  # noqa: F811
    pid = server.proc.pid
    assert pid is not None
    history = [child for child, cmd in children(pid) if "nsmap_history maintain" in cmd]
    assert len(history) == 1, f"nsmap_serve's children: {children(pid)}"
    assert f"--parent {pid}" in dict(children(pid))[history[0]]
    os.kill(pid, signal.SIGKILL)  # no clean-up code of the server's runs

    def gone() -> bool:
        try:
            return Path(f"/proc/{history[0]}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    wait_until(gone, 15, "the history process to end after the server was killed")


@pytest.mark.django_db
def test_it_writes_due_checkpoints_when_run_once(ingest, capsys) -> None:
    from tests.factories import FakeAgent, make_inventory
    from webui.topology.models import Node

    Node.objects.create(name="h1", key="k" * 40)
    ingest(FakeAgent("h1", key="k" * 40).snapshot(make_inventory("h1", namespaces=2)))
    call_command("nsmap_history", "maintain")
    assert Checkpoint.objects.count() == 1, "the first maintain writes the first checkpoint"
    assert "checkpoints_written': 1" in capsys.readouterr().out


def test_it_refuses_a_period_of_zero(db) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="more than 0"):
        call_command("nsmap_history", "maintain", "--every", "0")
