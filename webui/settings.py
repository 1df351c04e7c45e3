"""Django settings for nsmap, read only from the environment (with embedded-mode defaults).

Two modes, chosen by REDIS_URL:
- unset: embedded. SQLite in the project root, the in-memory channel layer, Celery eager. One
  process (``manage.py nsmap_serve``) runs the server and the local agent.
- set: distributed. Redis is the Celery broker and the channels-redis layer; DATABASE_URL usually
  points at PostgreSQL; agents sign their messages with their node key.

Nonsense in the environment raises ImproperlyConfigured at import time with the variable's name,
so that a mistyped value fails at start instead of half-working.

Variables:
  DEBUG              0/1/true/false/yes/no/on/off (default off)
  SECRET_KEY         required in distributed mode unless DEBUG is on; in embedded mode a key is
                     generated once and kept in var/secret_key (mode 0600)
  ALLOWED_HOSTS      comma separated (default "127.0.0.1,localhost,[::1]"; "*" allowed)
  CSRF_TRUSTED_ORIGINS comma separated origins (scheme://host[:port]), default none
  DATABASE_URL       dj-database-url form (default sqlite:///<project>/db.sqlite3)
  REDIS_URL          redis://, rediss:// or unix:// URL (agent/env.py); unset = embedded mode
  NODE_NAME          this host's node name for the local agent (default: the hostname)
  NSMAP_STALE_AFTER  seconds without a heartbeat before a node is "stale" (default 20)
  NSMAP_INGEST_BATCH 0/1: distributed workers drain a per-node inbox in batches (default 1)
  NSMAP_WS_CHECK_SECONDS how often an open WebSocket checks that it missed no patch (2)
  NSMAP_VISIBILITY_TIMEOUT seconds before an unacknowledged Celery message is redelivered (60)
  NSMAP_LOG_LEVEL    root log level (default INFO)
  NSMAP_TRACE        0/1: log where each live patch's time goes (bench/latency.py; default off)
  NSMAP_HISTORY_DAYS change records kept, in days (default 30); older ones are pruned
  NSMAP_CHECKPOINT_RECORDS / NSMAP_CHECKPOINT_MINUTES a history checkpoint every N records (2000)
                     or M minutes (10), whichever comes first
  NSMAP_WS_MAX_INBOUND bytes a WebSocket client may send in one message (65536)
  NSMAP_WS_MAX_PER_USER open WebSockets per user and server process (20)
  NSMAP_WS_RESYNC_INTERVAL seconds between two whole graphs a socket asks for (1)
  NSMAP_WS_MAX_BUFFER bytes sent to a client and not read yet before it is dropped (16 MiB; nsmap_serve)
  NSMAP_MAX_CLOCK_SKEW seconds an agent message's time may differ from the server's clock (300);
                     older messages are refused as replays
  NSMAP_COMMAND_ANSWER_MINUTES a lab command with no result this long after it was made fails
                     ("no answer from the agent"; default 15: a ping may take 10)
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from agent import env
from agent.settings import read_node_name

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("NSMAP_VAR_DIR", str(BASE_DIR / "var")))

_T = TypeVar("_T")


def _checked(read: Callable[[], _T]) -> _T:
    """agent/env.py's readers (shared with the agent, which has no Django) raise EnvError."""
    try:
        return read()
    except env.EnvError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable; anything but the usual spellings is an error, not False."""
    return _checked(lambda: env.read_bool(os.environ, name, default))


def env_number(name: str, default: float, *, minimum: float = 0.0, integer: bool = False) -> float:
    """A positive number of seconds (or a count); a word or a negative value is an error."""
    if integer:
        return _checked(lambda: env.read_int(os.environ, name, int(default), low=int(minimum)))
    return _checked(lambda: env.read_float(os.environ, name, default, low=minimum))


def env_list(name: str, default: list[str]) -> list[str]:
    return env.read_list(os.environ, name, default)


# -- mode ------------------------------------------------------------------------------------------

REDIS_URL = _checked(lambda: env.read_redis_url(os.environ))
EMBEDDED = REDIS_URL is None

DEBUG = env_bool("DEBUG", False)

NODE_NAME = _checked(lambda: read_node_name(os.environ))

NSMAP_STALE_AFTER = env_number("NSMAP_STALE_AFTER", 20.0, minimum=1.0)
NSMAP_COMMAND_ANSWER_MINUTES = env_number("NSMAP_COMMAND_ANSWER_MINUTES", 15.0, minimum=1.0)
NSMAP_INGEST_BATCH = env_bool("NSMAP_INGEST_BATCH", True)
NSMAP_WS_CHECK_SECONDS = env_number("NSMAP_WS_CHECK_SECONDS", 2.0, minimum=0.1)
NSMAP_VISIBILITY_TIMEOUT = int(env_number("NSMAP_VISIBILITY_TIMEOUT", 60, minimum=1, integer=True))
NSMAP_TRACE = env_bool("NSMAP_TRACE", False)
# history (webui/changelog/timetravel.py): retention, and how often a checkpoint is written
NSMAP_HISTORY_DAYS = env_number("NSMAP_HISTORY_DAYS", 30.0, minimum=0.01)
NSMAP_CHECKPOINT_RECORDS = int(env_number("NSMAP_CHECKPOINT_RECORDS", 2000, minimum=1, integer=True))
NSMAP_CHECKPOINT_MINUTES = env_number("NSMAP_CHECKPOINT_MINUTES", 10.0, minimum=0.01)
NSMAP_WS_MAX_INBOUND = int(env_number("NSMAP_WS_MAX_INBOUND", 65536, minimum=1024, integer=True))
NSMAP_WS_MAX_PER_USER = int(env_number("NSMAP_WS_MAX_PER_USER", 20, minimum=1, integer=True))
NSMAP_WS_RESYNC_INTERVAL = env_number("NSMAP_WS_RESYNC_INTERVAL", 1.0)
NSMAP_WS_MAX_BUFFER = int(env_number("NSMAP_WS_MAX_BUFFER", 16 * 1024 * 1024, minimum=65536, integer=True))
NSMAP_MAX_CLOCK_SKEW = env_number("NSMAP_MAX_CLOCK_SKEW", 300.0, minimum=1.0)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else (embedded or DEBUG) one generated once and stored."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY is too short: use 50 or more random characters")
        return key
    if not EMBEDDED and not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required in distributed mode (REDIS_URL is set): every web and worker "
            "process must share it; use 50 or more random characters"
        )
    path = VAR_DIR / "secret_key"
    try:
        stored = path.read_text().strip()
    except FileNotFoundError:
        stored = ""
    if len(stored) >= 32:
        return stored
    if stored or path.exists():  # empty or cut short (a full disk, a bad copy): make a new one
        path.unlink()
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


try:
    SECRET_KEY = _secret_key()
except FileExistsError:  # another process created it between our read and write
    SECRET_KEY = (VAR_DIR / "secret_key").read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])  # tests add "testserver"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not re.match(r"^https?://", _origin):
        raise ImproperlyConfigured(f"CSRF_TRUSTED_ORIGINS entry {_origin!r} must start with http:// or https://")

# -- apps ------------------------------------------------------------------------------------------


INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "webui.accounts",
    "webui.topology",
    "webui.changelog",
    "webui.commands",
    "webui.live",
    "webui.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lock-out into webui.accounts.throttle's 429
]

ROOT_URLCONF = "webui.urls"
ASGI_APPLICATION = "webui.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# -- database --------------------------------------------------------------------------------------

_database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=0 if EMBEDDED else 60, conn_health_checks=True)
except Exception as exc:  # dj-database-url raises several types for a bad URL
    raise ImproperlyConfigured(f"DATABASE_URL={_database_url!r} is not a database URL: {exc}") from None
if not _database.get("ENGINE"):
    raise ImproperlyConfigured(f"DATABASE_URL={_database_url!r}: unknown database scheme")
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # The agent thread writes while Daphne reads: wait for the lock instead of failing at once,
    # and use WAL so that readers never block the writer.
    _database.setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
if _database["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameter binding: a snapshot's multi-row INSERTs carry tens of thousands of
    # parameters, which client-side binding (psycopg 3's default in Django) quotes one by one.
    _database.setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- auth ------------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
SESSION_COOKIE_HTTPONLY = True
AUTHENTICATION_BACKENDS = ["webui.accounts.throttle.ThrottledSignIn", "django.contrib.auth.backends.ModelBackend"]
# sign-in throttling (webui/accounts/throttle.py): 10 failures per account or per address within
# 15 minutes lock that account or address for 15 minutes
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_USE_ATTEMPT_EXPIRATION = True  # each failure counts for the cool-off time only (a sliding window)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "webui.accounts.throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = None  # REMOTE_ADDR: a forwarded-for header is the client's to forge
AXES_VERBOSE = False
SESSION_COOKIE_SAMESITE = "Lax"

# -- i18n / static ---------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
with contextlib.suppress(OSError):  # whitenoise warns at every start when the directory is missing
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from STATICFILES_DIRS (no collectstatic step needed for `make run`).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# -- channels --------------------------------------------------------------------------------------

if EMBEDDED:
    CHANNEL_LAYERS = {"default": {"BACKEND": "webui.live.layer.LeanInMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 defaults to socket_timeout=5, the same 5 s channels-redis blocks in BZPOPMIN
            # while a consumer waits: an idle WebSocket would die every 5 s. Keepalive notices a
            # dead Redis; the consumer's watchdog re-joins the group after a Redis restart.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_keepalive": True}],
                "capacity": 1000,
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }

# -- celery (webui/celery.py reads the CELERY_ names) --------------------------------------------

CELERY_BROKER_URL = env.celery_broker_url(REDIS_URL) if REDIS_URL else "memory://"
# kombu's Redis transport, except that garbage on a queue is dropped and logged, not fatal. (A unix://
# REDIS_URL reaches kombu as redis+socket://, and kombu lets that prefix choose its stock transport.)
CELERY_BROKER_TRANSPORT = None if EMBEDDED else "webui.broker:Transport"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
CELERY_TASK_EAGER_PROPAGATES = EMBEDDED
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless this
# is set (it then closes every 2 x N tasks): a new PostgreSQL connection per message cost about
# 10 ms of each live change. Connections are kept instead and recycled the way Django recycles
# them per request (CONN_MAX_AGE, health checks; webui/celery.py).
CELERY_DB_REUSE_MAX = 10**9
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": NSMAP_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_ROUTES = {
    "nsmap.ingest": {"queue": "ingest"},
    "nsmap.drain": {"queue": "ingest"},
    "nsmap.mark_stale": {"queue": "ingest"},
    "nsmap.drain_inboxes": {"queue": "ingest"},
    "nsmap.history_maintain": {"queue": "ingest"},
    "nsmap.expire_commands": {"queue": "ingest"},
}
CELERY_TASK_DEFAULT_QUEUE = "ingest"
CELERY_BEAT_SCHEDULE = {
    "nsmap-mark-stale": {"task": "nsmap.mark_stale", "schedule": max(1.0, NSMAP_STALE_AFTER / 2)},
    "nsmap-drain-inboxes": {"task": "nsmap.drain_inboxes", "schedule": 10.0},
    "nsmap-history": {"task": "nsmap.history_maintain", "schedule": 60.0},
    "nsmap-expire-commands": {"task": "nsmap.expire_commands", "schedule": 60.0},
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"

# -- REST API (Django REST framework, webui/rest.py; schema by drf-spectacular) ----------------------

INSTALLED_APPS += ["rest_framework", "django_filters", "drf_spectacular", "drf_spectacular_sidecar"]
REST_FRAMEWORK = {
    # a Bearer token first: its authenticate_header makes an anonymous request a 401, not a 403
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webui.accounts.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],  # no browsable API
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webui.rest.handle_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "nsmap API",
    "DESCRIPTION": "The graph, the hosts, the change log and lab commands (operators). Sign in, or send "
    "`Authorization: Bearer TOKEN` (`manage.py nsmap_token USER --role viewer|operator|admin`); a session "
    'needs its CSRF token to POST. Errors are `{"error": reason}` (a 400 also names each bad field).',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "webui.rest.empty_means_absent"],
    "ENUM_NAME_OVERRIDES": {
        "NodeStateEnum": "webui.topology.models.NodeState",
        "NamespaceKindEnum": "webui.topology.schema.NAMESPACE_KINDS",
        "PeerStatusEnum": "webui.topology.schema.PEER_STATUSES",
        "ObjectKindEnum": "webui.changelog.models.ObjectKind",
    },
    # Swagger UI from drf-spectacular-sidecar's static files (whitenoise), never a CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    # no deep links: they put a link inside each operation's button (axe: nested-interactive)
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# -- logging ---------------------------------------------------------------------------------------

_log_level = _checked(
    lambda: env.read_choice(os.environ, "NSMAP_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _log_level},
    "loggers": {"django.channels.server": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}

# -- content security policy (django-csp) ----------------------------------------------------------
# The pages run only their own files: no inline script (page config travels in a JSON data block,
# templates/nsmap/graph.html), no inline event handlers, no inline styles (Cytoscape's one injected
# rule lives in static/nsmap/nsmap.css, see static/nsmap/graph-view.js), and no markup built from
# data (static/nsmap/dom.js). The WebSocket is same-origin: 'self' covers ws:/wss: of this host.
# A template that ever needs an inline script takes {{ request.csp_nonce }}.
from csp.constants import NONCE, NONE, SELF  # noqa: E402  (kept beside the policy it builds)

MIDDLEWARE.append("csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
