"""The agent's own queue `node.<NODE_NAME>` on a private Redis: commands sent the way the server
sends them run once; garbage on the queue is dropped and the consumer carries on."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from agent.commands import Command, CommandConsumer, CommandExecutor
from agent.protocol import PROTOCOL_VERSION
from tests.agent.test_runner_broker import send_command
from tests.agent.watch_support import wait_for


@pytest.fixture
def consumer(private_redis):
    calls: list[Command] = []
    executor = CommandExecutor({"resync": calls.append})
    node = f"q{uuid.uuid4().hex[:6]}"
    consumer = CommandConsumer(private_redis.url, node, executor)
    consumer.start()
    try:
        yield private_redis, node, executor, calls
    finally:
        consumer.stop()


def command(name: str = "resync", **extra) -> str:
    return json.dumps({"v": PROTOCOL_VERSION, "type": "command", "command": name, "id": str(uuid.uuid4()), **extra})


def test_it_runs_a_resync_sent_with_celery_send_task(consumer):
    redis, node, executor, calls = consumer
    body = command()
    send_command(redis.url, node, body)
    assert wait_for(lambda: len(calls) == 1)
    send_command(redis.url, node, body)  # redelivered: runs once
    send_command(redis.url, node, command("wipe"))
    assert wait_for(lambda: executor.rejected == 1)
    assert len(calls) == 1


def test_it_survives_garbage_on_its_queue(consumer):
    import redis as redis_lib

    redis, node, _executor, calls = consumer
    client = redis_lib.Redis.from_url(redis.url)
    envelope = {
        "body": "!!! not base64",
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"task": "nsmap.agent_command"},
        "properties": {"body_encoding": "base64", "delivery_tag": "x", "priority": 0},
    }
    client.lpush(f"node.{node}", b"\x00 not a message", json.dumps(envelope))
    time.sleep(1.0)
    send_command(redis.url, node, command())
    assert wait_for(lambda: len(calls) == 1, timeout=15)
