"""The agent's settings from the environment; nonsense fails at start, loudly, with the variable named.

A typo such as NSMAP_RECONCILE_SECONDS=3o must not silently become a default: an agent that
reconciles never, or floods the broker, is worse than one that refuses to start.
"""

from __future__ import annotations

import math
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

NODE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # it becomes the queue node.<NAME>
REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+socket")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MIN_KEY_LENGTH = 16


class SettingsError(ValueError):
    """A setting is missing or makes no sense; the message names the variable."""


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
        node = env.get("NODE_NAME", "").strip() or socket.gethostname().split(".")[0]
        if not NODE_NAME_RE.match(node):
            raise SettingsError(
                f"NODE_NAME={node!r}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        redis_url = env.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL
        parts = urlsplit(redis_url)
        if parts.scheme not in REDIS_SCHEMES or (parts.scheme.startswith("redis") and not parts.hostname):
            raise SettingsError(f"REDIS_URL={redis_url!r}: expected redis://HOST[:PORT][/DB] (or rediss://, unix://)")
        try:
            parts.port  # noqa: B018  (raises on a bad port)
        except ValueError as exc:
            raise SettingsError(f"REDIS_URL={redis_url!r}: {exc}") from exc
        key = (env.get("NSMAP_NODE_KEY") or "").strip()  # empty is unset (compose's ${VAR:-})
        if key and len(key) < MIN_KEY_LENGTH:
            raise SettingsError(
                f"NSMAP_NODE_KEY is {len(key)} characters; a node key has at least {MIN_KEY_LENGTH} "
                "(`python manage.py nsmap_node add NAME` prints one); unset it to send unsigned"
            )
        runtime_api_settings(env)  # checked at start: a bad NSMAP_DOCKER_API must not wait for the first scan
        return cls(
            node=node,
            redis_url=redis_url,
            node_key=key or None,
            reconcile_seconds=_number(env, "NSMAP_RECONCILE_SECONDS", 30.0, 1.0, 86400.0),
            heartbeat_seconds=_number(env, "NSMAP_HEARTBEAT_SECONDS", 5.0, 0.1, 3600.0),
            coalesce_ms=_number(env, "NSMAP_COALESCE_MS", 5.0, 0.0, 1000.0),
        )


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise SettingsError(f"{name}={raw!r} is out of range [{low:g}, {high:g}]")
    return value


DEFAULT_DOCKER_SOCKET = "/run/docker.sock"


def runtime_api_settings(env: Mapping[str, str] | None = None) -> tuple[str | None, float]:
    """(the Docker API socket the agent may ask for container names, or None; its timeout in s).

    NSMAP_DOCKER_API: unset, "0" or "off" never asks (the default: state files only); "1" or "on"
    asks /run/docker.sock; an absolute path asks that socket. NSMAP_RUNTIME_API_TIMEOUT: 0.05-10 s.
    """
    env = os.environ if env is None else env
    raw = (env.get("NSMAP_DOCKER_API") or "").strip()
    timeout = _number(env, "NSMAP_RUNTIME_API_TIMEOUT", 0.5, 0.05, 10.0)
    if raw.lower() in ("", "0", "off", "no", "false"):
        return None, timeout
    if raw.lower() in ("1", "on", "yes", "true"):
        return DEFAULT_DOCKER_SOCKET, timeout
    if not raw.startswith("/") or "\0" in raw:
        raise SettingsError(f"NSMAP_DOCKER_API={raw!r}: use on/off or the absolute path of the Docker API socket")
    return raw, timeout
