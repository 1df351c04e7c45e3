"""Garbage on a Celery queue in Redis (not JSON, a body that is not base64) is dropped and
logged by the workers' transport, which then delivers the next message: no exception reaches
the worker's event loop (a real, private redis-server)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.distributed.harness import PrivateRedis, redis_client


@pytest.fixture
def redis_url(private_redis: PrivateRedis) -> str:
    return private_redis.url


def test_it_drops_undecodable_items_and_delivers_the_next_message(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from kombu import Connection, Consumer, Queue

    client = redis_client(redis_url)
    bad_base64 = {"body": "!!! not base64", "content-type": "application/json", "content-encoding": "utf-8"}
    bad_base64 |= {"headers": {}, "properties": {"body_encoding": "base64", "delivery_tag": "x", "priority": 0}}
    client.lpush("ingest", b"\x00 not a message")
    client.lpush("ingest", json.dumps(bad_base64))
    got: list[Any] = []

    def receive(body: Any, message: Any) -> None:
        got.append(body)
        message.ack()

    with (
        caplog.at_level(logging.WARNING, logger="nsmap.ingest"),
        Connection(redis_url, transport="webui.broker:Transport") as conn,
    ):
        conn.SimpleQueue("ingest").put({"good": 1})
        with Consumer(conn, [Queue("ingest")], callbacks=[receive], accept=["json"]):
            for _ in range(20):
                if got:
                    break
                conn.drain_events(timeout=1)
    assert got == [{"good": 1}]
    assert client.llen("ingest") == 0 and client.hlen("unacked") == 0, "something stayed or waits for redelivery"
    rejected = [r for r in caplog.records if "undecodable broker message" in r.getMessage()]
    assert len(rejected) == 2, [r.getMessage() for r in caplog.records]
