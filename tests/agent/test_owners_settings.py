"""Whether the agent may ask a runtime's API for names is a setting: off unless asked for, a path
or "on", a bounded timeout; nonsense refused at start with the variable named."""

from __future__ import annotations

import pytest

from agent.settings import AgentSettings, SettingsError, runtime_api_settings


def test_it_never_asks_a_runtime_api_by_default() -> None:
    assert runtime_api_settings({}) == (None, 0.5)
    assert runtime_api_settings({"NSMAP_DOCKER_API": "off"})[0] is None


def test_it_asks_the_docker_socket_when_allowed() -> None:
    assert runtime_api_settings({"NSMAP_DOCKER_API": "on"}) == ("/run/docker.sock", 0.5)
    env = {"NSMAP_DOCKER_API": "/var/run/other.sock", "NSMAP_RUNTIME_API_TIMEOUT": "2"}
    assert runtime_api_settings(env) == ("/var/run/other.sock", 2.0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NSMAP_DOCKER_API": "docker.sock"}, "NSMAP_DOCKER_API"),
        ({"NSMAP_DOCKER_API": "tcp://10.0.0.1:2375"}, "NSMAP_DOCKER_API"),
        ({"NSMAP_RUNTIME_API_TIMEOUT": "0"}, "NSMAP_RUNTIME_API_TIMEOUT"),
        ({"NSMAP_RUNTIME_API_TIMEOUT": "5s"}, "NSMAP_RUNTIME_API_TIMEOUT"),
    ],
)
def test_it_refuses_nonsense_at_start(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        AgentSettings.from_env(env)
