"""Typed readers for settings from the environment, shared by the agent (agent/settings.py) and the
server (webui/settings.py); no Django here, so the agent can use them.

Nonsense fails loudly with the variable's name and value in the message: a typo such as
NSMAP_RECONCILE_SECONDS=3o must not silently become a default. An unset or blank variable takes
the default (compose passes ``${VAR:-}`` as an empty string).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})
# What both sides hand a Redis URL to understands these: redis-py (the inbox, channels-redis)
# directly, kombu (Celery, the command queue) after celery_broker_url().
REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_FORMS = "redis://[:PASSWORD@]HOST[:PORT][/DB], rediss://... or unix://[:PASSWORD@]/PATH[?db=DB]"


class EnvError(ValueError):
    """A variable makes no sense; the message names it and quotes its value."""


def _raw(env: Mapping[str, str], name: str) -> str | None:
    """The value, or None when unset or blank."""
    raw = env.get(name)
    return None if raw is None or raw.strip() == "" else raw


def read_str(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _raw(env, name)
    return default if raw is None else raw.strip()


def read_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """1/0, true/false, yes/no, on/off in any case; anything else is an error, not False."""
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise EnvError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


Number = TypeVar("Number", int, float)


def _number(
    env: Mapping[str, str], name: str, parse: Callable[[str], Number], what: str, low: float, high: float
) -> Number | None:
    """The variable parsed by ``parse`` (``what`` it must be: "a number", "an integer") within
    [low, high]; None when unset."""
    raw = _raw(env, name)
    if raw is None:
        return None
    try:
        value = parse(raw)
    except ValueError:
        raise EnvError(f"{name}={raw!r} is not {what}") from None
    if not math.isfinite(value):
        raise EnvError(f"{name}={raw!r} must be finite")
    if not low <= value <= high:
        bounds = f">= {low:g}" if high == math.inf else f"in [{low:g}, {high:g}]"
        raise EnvError(f"{name}={raw!r} must be {what} {bounds}")
    return value


def read_float(env: Mapping[str, str], name: str, default: float, *, low: float, high: float = math.inf) -> float:
    value = _number(env, name, float, "a number", low, high)
    return default if value is None else value


def read_int(env: Mapping[str, str], name: str, default: int, *, low: int, high: float = math.inf) -> int:
    value = _number(env, name, int, "an integer", low, high)
    return default if value is None else value


def read_choice(env: Mapping[str, str], name: str, default: str, choices: Sequence[str]) -> str:
    """One of ``choices``, matched without regard to case; returned as spelled in ``choices``."""
    raw = _raw(env, name)
    if raw is None:
        return default
    by_fold = {choice.casefold(): choice for choice in choices}
    try:
        return by_fold[raw.strip().casefold()]
    except KeyError:
        raise EnvError(f"{name}={raw!r} is not one of {', '.join(choices)}") from None


def read_list(env: Mapping[str, str], name: str, default: list[str]) -> list[str]:
    """Comma separated; blanks around items and empty items are dropped."""
    raw = env.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def read_redis_url(env: Mapping[str, str], name: str = "REDIS_URL") -> str | None:
    """A Redis URL in one of REDIS_FORMS, or None when unset."""
    raw = _raw(env, name)
    if raw is None:
        return None
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise EnvError(f"{name}={raw!r} is not a {REDIS_FORMS} URL")
    if parts.scheme == "unix":
        if not parts.path.startswith("/") or parts.hostname:
            raise EnvError(f"{name}={raw!r}: a unix:// URL names an absolute socket path (unix:///run/redis.sock)")
        db = dict(parse_qsl(parts.query)).get("db", "0")
    else:
        if not parts.hostname:
            raise EnvError(f"{name}={raw!r} is not a {REDIS_FORMS} URL")
        try:
            parts.port  # noqa: B018  (raises on a bad port)
        except ValueError:
            raise EnvError(f"{name}={raw!r} has a bad port") from None
        db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise EnvError(f"{name}={raw!r}: the database is a number, got {db!r}")
    return url


def celery_broker_url(redis_url: str) -> str:
    """``redis_url`` as kombu (Celery's transport, the command queue) spells it: kombu has no
    unix:// scheme; its socket form is redis+socket:///PATH, the database given as virtual_host."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    query = [("virtual_host" if key == "db" else key, value) for key, value in parse_qsl(parts.query)]
    return f"redis+socket://{parts.netloc}{parts.path}" + (f"?{urlencode(query)}" if query else "")
