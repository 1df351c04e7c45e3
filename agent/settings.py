"""The agent's settings from the environment; nonsense fails at start, loudly, with the variable named.

A typo such as NSMAP_RECONCILE_SECONDS=3o must not silently become a default: an agent that
reconciles never, or floods the broker, is worse than one that refuses to start. The readers are
agent/env.py's, shared with webui/settings.py.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from agent.env import FALSE, TRUE, EnvError, read_float, read_redis_url, read_str
from agent.protocol import NODE_RE

NODE_NAME_RE = NODE_RE  # it becomes the queue node.<NAME>
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MIN_KEY_LENGTH = 16

SettingsError = EnvError  # a setting is missing or makes no sense; the message names the variable


def read_node_name(env: Mapping[str, str]) -> str:
    """NODE_NAME, else the short host name; it names a Celery queue, so only a few characters."""
    node = read_str(env, "NODE_NAME", "") or socket.gethostname().split(".")[0]
    if not NODE_NAME_RE.fullmatch(node):
        raise SettingsError(
            f"NODE_NAME={node!r}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return node


@dataclass(frozen=True, slots=True)
class AgentSettings:
    node: str
    redis_url: str
    node_key: str | None
    reconcile_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    coalesce_ms: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AgentSettings:
        env = os.environ if env is None else env
        key = read_str(env, "NSMAP_NODE_KEY", "")
        if key and len(key) < MIN_KEY_LENGTH:
            raise SettingsError(
                f"NSMAP_NODE_KEY is {len(key)} characters; a node key has at least {MIN_KEY_LENGTH} "
                "(`python manage.py nsmap_node add NAME` prints one); unset it to send unsigned"
            )
        runtime_api_settings(env)  # checked at start: a bad NSMAP_DOCKER_API must not wait for the first scan
        return cls(
            node=read_node_name(env),
            redis_url=read_redis_url(env) or DEFAULT_REDIS_URL,
            node_key=key or None,
            reconcile_seconds=read_float(env, "NSMAP_RECONCILE_SECONDS", 30.0, low=1.0, high=86400.0),
            heartbeat_seconds=read_float(env, "NSMAP_HEARTBEAT_SECONDS", 5.0, low=0.1, high=3600.0),
            coalesce_ms=read_float(env, "NSMAP_COALESCE_MS", 5.0, low=0.0, high=1000.0),
        )


DEFAULT_DOCKER_SOCKET = "/run/docker.sock"


def runtime_api_settings(env: Mapping[str, str] | None = None) -> tuple[str | None, float]:
    """(the Docker API socket the agent may ask for container names, or None; its timeout in s).

    NSMAP_DOCKER_API: unset, "0" or "off" never asks (the default: state files only); "1" or "on"
    asks /run/docker.sock; an absolute path asks that socket. NSMAP_RUNTIME_API_TIMEOUT: 0.05-10 s.
    """
    env = os.environ if env is None else env
    raw = (env.get("NSMAP_DOCKER_API") or "").strip()
    timeout = read_float(env, "NSMAP_RUNTIME_API_TIMEOUT", 0.5, low=0.05, high=10.0)
    if raw.lower() in FALSE:
        return None, timeout
    if raw.lower() in TRUE:
        return DEFAULT_DOCKER_SOCKET, timeout
    if not raw.startswith("/") or "\0" in raw:
        raise SettingsError(f"NSMAP_DOCKER_API={raw!r}: use on/off or the absolute path of the Docker API socket")
    return raw, timeout
