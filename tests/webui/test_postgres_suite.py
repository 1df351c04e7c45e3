"""The database tests pass on PostgreSQL too: a representative set of modules runs for real
against PostgreSQL (DATABASE_URL), in a database of its own, whenever a server is reachable.

Run everything on PostgreSQL by hand with:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nsmap .venv/bin/python -m pytest tests/webui
NSMAP_TEST_PG_URL overrides the server used here; the test skips when it does not answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("NSMAP_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
MODULES = [
    "tests/webui/test_ingest_snapshot.py",
    "tests/webui/test_ingest_delta.py",
    "tests/webui/test_ingest_sequence.py",
    "tests/webui/test_ingest_rejections.py",
    "tests/webui/test_changelog_records.py",
    "tests/webui/test_api_changes.py",
    "tests/webui/test_api_hostile_params.py",
    "tests/webui/test_ws_consumer.py",
]


def _reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def test_it_passes_the_ingest_api_and_websocket_tests_on_postgresql() -> None:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("this whole run is already on PostgreSQL")
    problem = _reachable()
    if problem:
        pytest.skip(f"no PostgreSQL at {PG_URL}: {problem}")
    name = f"nsmap_t{uuid.uuid4().hex[:8]}"  # pytest-django creates and drops test_<name>
    url = urlunsplit(urlsplit(PG_URL)._replace(path="/" + name))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    env["DATABASE_URL"] = url
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db", *MODULES],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1]
