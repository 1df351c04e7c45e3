"""Settings come from the environment and fail loudly, naming the variable, on nonsense."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import REDIS_URL_FORMS

REPO = Path(__file__).resolve().parents[2]


def _check(tmp_path: Path, code: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("NSMAP_", "DJANGO_"))}
    for name in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "NODE_NAME"):
        full.pop(name, None)
    full.update({"NSMAP_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    full.update(env)
    code = "import django; django.setup(); from django.conf import settings as s; " + (
        code or "print(s.EMBEDDED, s.NODE_NAME)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**full, "DJANGO_SETTINGS_MODULE": "webui.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"NSMAP_STALE_AFTER": "soon"}, "NSMAP_STALE_AFTER='soon' is not a number"),
        ({"NSMAP_STALE_AFTER": "-5"}, "NSMAP_STALE_AFTER='-5' must be"),
        ({"NSMAP_VISIBILITY_TIMEOUT": "1.5"}, "NSMAP_VISIBILITY_TIMEOUT='1.5' is not an integer"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379' is not a redis://"),
        ({"REDIS_URL": "redis://127.0.0.1:99999/0", "SECRET_KEY": "s" * 50}, "bad port"),
        ({"REDIS_URL": "redis+socket:///run/redis.sock"}, "REDIS_URL='redis+socket:///run/redis.sock'"),
        ({"REDIS_URL": "unix://run/redis.sock"}, "REDIS_URL='unix://run/redis.sock'"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/zero"}, "REDIS_URL='redis://127.0.0.1:6379/zero'"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "SECRET_KEY is required in distributed mode"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too short"),
        ({"DATABASE_URL": "mysqlx://nowhere/db"}, "DATABASE_URL='mysqlx://nowhere/db'"),
        ({"NODE_NAME": "bad name"}, "NODE_NAME='bad name'"),
        ({"NSMAP_LOG_LEVEL": "LOUD"}, "NSMAP_LOG_LEVEL='LOUD'"),
        ({"CSRF_TRUSTED_ORIGINS": "example.com"}, "CSRF_TRUSTED_ORIGINS entry 'example.com'"),
    ],
)
def test_it_fails_loudly_on_nonsense(tmp_path: Path, env: dict[str, str], message: str) -> None:
    proc = _check(tmp_path, **env)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and message in proc.stderr, proc.stderr[-1500:]


def test_it_defaults_to_embedded_mode_with_a_stored_secret_key(tmp_path: Path) -> None:
    proc = _check(tmp_path, NODE_NAME="lab-1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "lab-1"]
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    assert _check(tmp_path).returncode == 0 and key_file.read_text() == key  # kept, not regenerated


def test_it_runs_distributed_with_redis_and_a_secret_key(tmp_path: Path) -> None:
    proc = _check(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", SECRET_KEY="x" * 50)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "False"


def test_it_accepts_every_redis_url_form_the_agent_accepts(tmp_path: Path) -> None:
    """One process reads the settings module once per form (a Django start each costs a second)."""
    code = (
        "import importlib, json, os; import webui.settings as m; out = []\n"
        "for url, _ in json.loads(os.environ['FORMS']):\n"
        "    os.environ['REDIS_URL'] = url\n"
        "    importlib.reload(m)\n"
        "    out.append([m.REDIS_URL, m.CELERY_BROKER_URL])\n"
        "print(json.dumps(out))"
    )
    proc = _check(tmp_path, code, SECRET_KEY="x" * 50, FORMS=json.dumps(REDIS_URL_FORMS))
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert json.loads(proc.stdout) == [[url, kombu_url] for url, kombu_url in REDIS_URL_FORMS]
