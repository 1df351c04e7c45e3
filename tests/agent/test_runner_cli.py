"""`python -m agent run`: refuses nonsense settings at once, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def agent(env: dict[str, str]) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("NSMAP_") and k not in ("NODE_NAME", "REDIS_URL")}
    full.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "run"],
        cwd=ROOT,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_it_refuses_to_start_with_nonsense_settings():
    proc = agent({"NSMAP_RECONCILE_SECONDS": "soon"})
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "NSMAP_RECONCILE_SECONDS" in err and "not a number" in err


@pytest.mark.kernel
def test_it_runs_until_sigterm_and_exits_cleanly(private_redis):
    if os.geteuid() != 0:
        pytest.skip("the agent needs root to open every namespace")
    proc = agent({"REDIS_URL": private_redis.url, "NODE_NAME": "cli-test", "NSMAP_NODE_KEY": "k" * 32})
    try:
        time.sleep(3)
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "running (run " in err and "stopping" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
