"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): check their structure,
and that every command they run names a module, command and setting that exist in this repo."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is in requirements.txt")

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, Any]:
    return compose()["services"]


def command(name: str) -> list[str]:
    cmd = services()[name]["command"]
    return cmd if isinstance(cmd, list) else cmd.split()


def source(path: str) -> str:
    file = REPO / path
    assert file.exists(), f"{path} does not exist"
    return file.read_text()


def test_it_has_the_services_of_distributed_mode() -> None:
    assert {"web", "worker", "beat", "agent", "redis", "postgres", "migrate"} <= set(services())
    for name in ("web", "worker", "beat", "agent", "migrate"):
        service = services()[name]
        assert service.get("build") in (".", {"context": "."}), f"{name} is not built from the Dockerfile"
        assert service.get("image") == "nsmap:latest", f"{name} does not share the one image"


def test_it_serves_the_real_asgi_application_with_nsmaps_limits() -> None:
    cmd = command("web")
    assert cmd[:3] == ["python", "manage.py", "nsmap_serve"], f"web runs {cmd}, not nsmap_serve (webui/limits.py)"
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0", "web listens only inside its container"
    assert "from webui.asgi import application" in source("webui/topology/management/commands/nsmap_serve.py")
    assert re.search(r"^application\s*=", source("webui/asgi.py"), re.M), "webui/asgi.py defines no application"
    assert re.search(r"^daphne==", source("requirements.txt"), re.M | re.I)


def test_it_runs_a_celery_worker_on_the_ingest_queue() -> None:
    cmd = command("worker")
    assert cmd[:4] == ["celery", "-A", "webui", "worker"]
    assert cmd[cmd.index("-Q") + 1] == "ingest"
    assert "Celery(" in source("webui/celery.py"), "celery -A webui needs webui/celery.py's app"
    tasks = "\n".join(p.read_text() for p in (REPO / "webui").rglob("*.py"))
    assert '"nsmap.ingest"' in tasks or "'nsmap.ingest'" in tasks, "no task named nsmap.ingest in webui/"


def test_it_runs_one_beat_for_the_periodic_stale_check() -> None:
    cmd = command("beat")
    assert cmd[:4] == ["celery", "-A", "webui", "beat"]
    assert "nsmap-mark-stale" in source("webui/settings.py"), "no beat schedule in webui/settings.py"
    assert "replicas" not in services()["beat"].get("deploy", {}), "one beat only"


def test_it_runs_the_agent_with_the_hosts_view_of_namespaces() -> None:
    agent = services()["agent"]
    assert command("agent") == ["python", "-m", "agent", "run"]
    assert (REPO / "agent" / "runner.py").exists() and '"run"' in source("agent/__main__.py")
    assert agent.get("privileged") is True
    assert agent.get("network_mode") == "host"
    assert agent.get("pid") == "host"
    mounts = {v["target"]: v for v in agent["volumes"] if isinstance(v, dict)}
    for target in ("/run/netns", "/var/run/docker/netns"):
        assert target in mounts, f"{target} is not mounted (long syntax needed for propagation)"
        mount = mounts[target]
        assert mount["type"] == "bind" and mount["source"] == target
        assert mount["bind"]["propagation"] in ("rshared", "shared"), f"{target}: propagation is not shared"


def test_it_migrates_before_web_and_worker_start() -> None:
    assert command("migrate")[:3] == ["python", "manage.py", "migrate"]
    assert (REPO / "manage.py").exists()
    for name in ("web", "worker"):
        depends = services()[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_it_waits_for_healthy_dependencies() -> None:
    all_services = services()
    for name in ("redis", "postgres", "web", "worker", "agent"):
        check = all_services[name].get("healthcheck", {})
        assert check.get("test"), f"{name} has no health check"
    expected = {
        "web": {"redis", "postgres"},
        "worker": {"redis", "postgres"},
        "migrate": {"postgres"},
        "agent": {"redis"},
    }
    for name, needs in expected.items():
        depends = all_services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions (long syntax)"
        for dep in needs:
            assert depends[dep]["condition"] == "service_healthy", f"{name} does not wait for {dep} to be healthy"


def test_it_passes_the_settings_the_code_reads() -> None:
    all_services = services()
    for name in ("web", "worker", "beat", "migrate"):
        env = all_services[name]["environment"]
        assert {"REDIS_URL", "DATABASE_URL", "SECRET_KEY"} <= set(env), f"{name}: {sorted(env)}"
        assert "@redis:6379" in env["REDIS_URL"] and "@postgres:5432/" in env["DATABASE_URL"]
    agent_env = all_services["agent"]["environment"]
    assert {"REDIS_URL", "NODE_NAME", "NSMAP_NODE_KEY"} <= set(agent_env)
    assert "127.0.0.1:6379" in agent_env["REDIS_URL"], "the agent is on the host network: Redis via the host port"
    settings = source("webui/settings.py")
    for var in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY"):
        assert var in settings, f"webui/settings.py does not read {var}"
    agent_settings = source("agent/settings.py")
    for var in ("REDIS_URL", "NODE_NAME", "NSMAP_NODE_KEY"):
        assert var in agent_settings, f"agent/settings.py does not read {var}"


def test_it_uses_only_documented_variables() -> None:
    text = COMPOSE.read_text()
    names = {m.group(1) for m in INTERPOLATION.finditer(text)}
    stray = re.findall(r"(?<!\$)\$(?!\$|\{)[A-Za-z_]", text)
    assert not stray, f"bare $VAR in docker-compose.yml (use ${{VAR}}, or $$ for the container's shell): {stray}"
    doc = source("docs/distributed.md")
    undocumented = sorted(n for n in names if n not in doc)
    assert not undocumented, f"variables of docker-compose.yml missing from docs/distributed.md: {undocumented}"


def test_it_builds_one_slim_image_with_iproute2() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"apt-get install[^\n]*\biproute2\b", text)
    assert re.search(r"pip install[^\n]*-r requirements\.txt", text)
    ignore = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignore and ".git" in ignore, "the build context would carry .venv and .git"
