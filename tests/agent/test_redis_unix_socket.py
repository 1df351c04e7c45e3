"""A unix:// REDIS_URL (with a password and a database) works end to end for the agent: the inbox
push (redis-py), the drain task (Celery) and its command queue (kombu) all reach that database
on that socket, through a redis-server of the test's own."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

from agent.env import celery_broker_url, read_redis_url
from agent.inbox import DRAIN_TASK, INBOX_KEY, INGEST_QUEUE
from agent.labwire import COMMAND_RESULT_TASK
from agent.protocol import PROTOCOL_VERSION
from agent.publisher import CeleryTransport
from agent.runner import AgentRunner, lab_commands
from agent.signing import sign
from tests.agent.lab_support import KEY, signed
from tests.agent.test_runner_broker import send_command
from tests.agent.watch_support import wait_for
from tests.distributed.harness import REDIS_SERVER, Processes, redis_client, wait_until

PASSWORD = "unix-socket-pw"
DB = 3


@pytest.fixture
def unix_redis() -> Iterator[str]:
    """REDIS_URL of a private redis-server listening only on a unix socket (a short path: the
    kernel limits socket paths to 108 bytes), killed and removed after the test."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"{REDIS_SERVER} is not installed")
    folder = tempfile.mkdtemp(prefix="nsmap-redis-")
    procs = Processes(Path(folder))
    try:
        sock = os.path.join(folder, "redis.sock")
        argv = [REDIS_SERVER, "--port", "0", "--unixsocket", sock, "--requirepass", PASSWORD, "--save", ""]
        procs.add("redis-unix", [*argv, "--appendonly", "no", "--dir", folder], dict(os.environ)).start()
        url = f"unix://:{PASSWORD}@{sock}?db={DB}"
        wait_until(lambda: redis_client(url).ping(), 10, f"redis-server on {sock}", procs)
        yield url
    finally:
        procs.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_it_publishes_into_the_inbox_and_wakes_a_worker_over_a_unix_socket(unix_redis: str) -> None:
    assert read_redis_url({"REDIS_URL": unix_redis}) == unix_redis  # the settings accept it
    node = f"u{uuid.uuid4().hex[:6]}"
    transport = CeleryTransport(unix_redis, node=node)
    try:
        transport.send('{"probe": 1}', "sig")
    finally:
        transport.close()
    client = redis_client(unix_redis)
    assert [json.loads(item) for item in client.lrange(INBOX_KEY.format(node=node), 0, -1)] == [['{"probe": 1}', "sig"]]
    with Connection(celery_broker_url(unix_redis)) as conn:
        message = conn.SimpleQueue(INGEST_QUEUE).get(timeout=5)
        assert message.headers["task"] == DRAIN_TASK and message.decode()[0] == [node]
        message.ack()
    assert client.llen(INGEST_QUEUE) == 0  # the wake-up was in this database, on this socket


def test_it_takes_commands_from_its_queue_over_a_unix_socket(unix_redis: str) -> None:
    node = f"u{uuid.uuid4().hex[:6]}"
    runner = AgentRunner(CeleryTransport(unix_redis, node=node), node, commands_url=unix_redis)
    assert runner.consumer is not None
    runner.consumer.start()
    try:
        body = json.dumps({"v": PROTOCOL_VERSION, "type": "command", "command": "resync", "id": str(uuid.uuid4())})
        send_command(celery_broker_url(unix_redis), node, body)
        assert wait_for(lambda: runner.executor.executed == 1), "the resync sent over the socket never ran"
    finally:
        runner.consumer.stop()
        runner.transport.close()


def test_it_reports_a_lab_result_over_a_unix_socket(unix_redis: str) -> None:
    node = f"u{uuid.uuid4().hex[:6]}"
    lab = lab_commands(node, KEY, unix_redis)
    assert lab is not None
    try:
        body, signature = signed("bridge.create", {})  # bad args: a failed result, no kernel change
        assert lab.handle(body, signature).status == "failed"
    finally:
        lab.actions.close()
    with Connection(celery_broker_url(unix_redis)) as conn:
        message = conn.SimpleQueue(INGEST_QUEUE).get(timeout=5)
        result_body, result_signature = message.decode()[0]
        message.ack()
    assert message.headers["task"] == COMMAND_RESULT_TASK, f"not a lab result: {message.headers['task']}"
    assert json.loads(result_body)["status"] == "failed" and result_signature == sign(result_body.encode(), KEY)
