"""A test function not named test_it_* fails the run, naming it, instead of never running.

Each case runs pytest in a subprocess on a module of its own in a temporary folder, with the
guard of tests/conftest.py loaded as a plugin and the project's collection rule.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR


def run_pytest(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\npython_files = test_*.py\npython_functions = test_it_*\n")
    (tmp_path / "test_sample.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_fails_the_run_naming_a_misnamed_test_function_and_method(tmp_path: Path) -> None:
    proc = run_pytest(
        tmp_path,
        "def test_it_runs():\n    pass\n\n"
        "def test_forgotten():\n    assert False\n\n"
        "class TestGroup:\n    def test_it_runs_too(self):\n        pass\n\n    def testalso(self):\n        pass\n",
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == USAGE_ERROR, output[-2000:]
    assert "test_sample.py::test_forgotten" in output, output[-2000:]
    assert "test_sample.py::TestGroup::testalso" in output, output[-2000:]
    assert "test_it_runs" not in output.split("never run:")[-1], output[-2000:]


def test_it_lets_well_named_tests_helpers_and_fixtures_through(tmp_path: Path) -> None:
    proc = run_pytest(
        tmp_path,
        "import pytest\n\n"
        "@pytest.fixture\ndef testdata():\n    return 41\n\n"
        "def helper(value):\n    return value + 1\n\n"
        "def test_it_uses_them(testdata):\n    assert helper(testdata) == 42\n",
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
    assert "1 passed" in proc.stdout, proc.stdout[-2000:]
