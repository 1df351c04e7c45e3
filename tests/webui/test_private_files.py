"""The database (with its WAL and shared memory), var/ and the secret key are readable by their
owner only: they hold session keys, node keys and password hashes."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from tests.webui.test_settings_env import REPO
from webui.topology.management.commands.nsmap_serve import restrict_files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_creates_the_database_and_var_owner_only(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "NSMAP_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    subprocess.run(
        ["/bin/sh", "-c", f"umask 022 && {sys.executable} manage.py migrate --no-input -v 0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    db = tmp_path / "db.sqlite3"
    with sqlite3.connect(db) as connection:  # WAL mode (settings): the -wal and -shm files appear
        connection.execute("SELECT count(*) FROM django_session").fetchall()
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), tmp_path / "var" / "secret_key"):
            assert path.exists(), path
            assert mode(path) == 0o600, f"{path.name} is {oct(mode(path))}, readable by others"
    assert mode(tmp_path / "var") == 0o700


def test_it_makes_an_existing_readable_database_owner_only(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o644)
    old = os.umask(0o022)
    try:
        restrict_files({"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "db.sqlite3"}, var)
        assert os.umask(0o022) == 0o077, "nsmap_serve leaves new files readable by others"
    finally:
        os.umask(old)
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
        assert mode(tmp_path / name) == 0o600, name
    assert mode(var) == 0o700
