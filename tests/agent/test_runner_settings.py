"""The agent's environment: sane defaults, and nonsense refused at start with the variable named."""

from __future__ import annotations

import pytest

from agent.env import celery_broker_url
from agent.settings import AgentSettings, SettingsError
from tests.factories import REDIS_URL_FORMS

KEY = "0123456789abcdef0123"


def test_it_has_defaults_for_everything():
    settings = AgentSettings.from_env({})
    assert settings.node and settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.node_key is None
    assert (settings.reconcile_seconds, settings.heartbeat_seconds, settings.coalesce_ms) == (30.0, 5.0, 5.0)


def test_it_treats_an_empty_key_as_unset():
    assert AgentSettings.from_env({"NSMAP_NODE_KEY": " "}).node_key is None


def test_it_reads_every_variable():
    settings = AgentSettings.from_env(
        {
            "NODE_NAME": "edge-7.lab",
            "REDIS_URL": "redis://:pw@10.0.0.5:6380/2",
            "NSMAP_NODE_KEY": f"  {KEY}\n",
            "NSMAP_RECONCILE_SECONDS": "12.5",
            "NSMAP_HEARTBEAT_SECONDS": "2",
            "NSMAP_COALESCE_MS": "0",
        }
    )
    assert settings == AgentSettings("edge-7.lab", "redis://:pw@10.0.0.5:6380/2", KEY, 12.5, 2.0, 0.0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NODE_NAME": "has space"}, "NODE_NAME"),
        ({"NODE_NAME": "-leading"}, "NODE_NAME"),
        ({"NODE_NAME": "x" * 64}, "NODE_NAME"),
        ({"NODE_NAME": "a/b"}, "NODE_NAME"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://host:notaport/0"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://host:6379/zero"}, "REDIS_URL"),
        ({"REDIS_URL": "redis+socket:///run/redis.sock"}, "REDIS_URL"),
        ({"REDIS_URL": "unix://run/redis.sock"}, "REDIS_URL"),
        ({"REDIS_URL": "unix:///run/redis.sock?db=x"}, "REDIS_URL"),
        ({"NSMAP_NODE_KEY": "short"}, "NSMAP_NODE_KEY"),
        ({"NSMAP_RECONCILE_SECONDS": "3o"}, "NSMAP_RECONCILE_SECONDS"),
        ({"NSMAP_RECONCILE_SECONDS": "0"}, "NSMAP_RECONCILE_SECONDS"),
        ({"NSMAP_RECONCILE_SECONDS": "nan"}, "NSMAP_RECONCILE_SECONDS"),
        ({"NSMAP_RECONCILE_SECONDS": "inf"}, "NSMAP_RECONCILE_SECONDS"),
        ({"NSMAP_HEARTBEAT_SECONDS": "-1"}, "NSMAP_HEARTBEAT_SECONDS"),
        ({"NSMAP_COALESCE_MS": "5000"}, "NSMAP_COALESCE_MS"),
        ({"NSMAP_COALESCE_MS": "five"}, "NSMAP_COALESCE_MS"),
    ],
)
def test_it_refuses_nonsense_naming_the_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        AgentSettings.from_env(env)


@pytest.mark.parametrize(("url", "kombu_url"), REDIS_URL_FORMS)
def test_it_accepts_every_redis_url_form_the_server_accepts(url, kombu_url):
    assert AgentSettings.from_env({"REDIS_URL": url}).redis_url == url
    assert celery_broker_url(url) == kombu_url
