"""The live agent against a real (private) Redis: signed snapshot then deltas, a broker outage
survived with a fresh snapshot afterwards, and `resync` commands on its own queue."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from redis import Redis

from agent.inbox import DRAIN_TASK, INBOX_KEY, KICK_KEY
from agent.protocol import PROTOCOL_VERSION, Inventory, diff_inventories, validate_message
from agent.publisher import CeleryTransport
from agent.runner import AgentRunner
from agent.signing import verify
from tests.agent.watch_support import keys_of, scoped

pytestmark = pytest.mark.kernel

KEY = "test-node-key-0123456789abcdef"


class Server:
    """Reads what the agent publishes like the server's worker would, and applies it: the
    node's inbox in Redis, woken by `nsmap.drain` tasks on the `ingest` queue."""

    def __init__(self, url: str, node: str) -> None:
        from kombu import Connection

        self.url = url
        self.node = node
        self.conn = Connection(url)
        self.client = Redis.from_url(url, socket_timeout=5)
        self.messages: list[dict] = []
        self.state: dict[str, dict[str, dict]] = {"namespaces": {}, "interfaces": {}}

    def reconnect(self) -> None:
        from kombu import Connection

        self.conn.release()
        self.conn = Connection(self.url)

    def drain(self, seconds: float = 0.3) -> list[dict]:
        got = []
        queue = self.conn.SimpleQueue("ingest")
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                try:
                    message = queue.get(timeout=0.05)
                except queue.Empty:
                    continue
                assert message.headers["task"] == DRAIN_TASK
                assert message.decode()[0] == [self.node]
                message.ack()
                self.client.delete(KICK_KEY.format(node=self.node))  # as the worker does, before draining
                while (item := self.client.lpop(INBOX_KEY.format(node=self.node))) is not None:
                    body, signature = json.loads(item)
                    assert verify(body.encode(), KEY, signature), "unsigned or badly signed"
                    data = validate_message(json.loads(body))
                    self.apply(data)
                    got.append(data)
        finally:
            queue.close()
        self.messages += got
        return got

    def apply(self, data: dict) -> None:
        if data["type"] == "snapshot":
            self.state = {
                "namespaces": {n["key"]: n for n in data["namespaces"]},
                "interfaces": {i["key"]: i for i in data["interfaces"]},
            }
        elif data["type"] == "delta":
            for change in data["changes"]:
                table = self.state["namespaces" if change["kind"] == "namespace" else "interfaces"]
                if change["op"] == "upsert":
                    table[change["key"]] = change["data"]
                else:
                    table.pop(change["key"], None)

    def inventory(self) -> Inventory:
        return Inventory.from_json(
            {
                "v": PROTOCOL_VERSION,
                "node": "x",
                "namespaces": list(self.state["namespaces"].values()),
                "interfaces": list(self.state["interfaces"].values()),
            }
        )

    def until(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain(0.1)
            if predicate():
                return True
        return False

    def close(self) -> None:
        self.conn.release()
        self.client.close()


def send_command(url: str, node: str, body: str) -> None:
    from celery import Celery

    app = Celery("test-server", broker=url, set_as_current=False)
    try:
        app.send_task("nsmap.agent_command", args=[body], queue=f"node.{node}")
    finally:
        app.close()


def matches_scan(server: Server, topo, spaces) -> bool:
    from agent.discovery import discover

    keys = keys_of(spaces)
    return not diff_inventories(scoped(server.inventory(), keys, topo.prefix), scoped(discover(), keys, topo.prefix))


def test_it_publishes_survives_a_broker_outage_and_obeys_resync(topo, private_redis):
    node = f"t{uuid.uuid4().hex[:8]}"
    runner = AgentRunner(
        CeleryTransport(private_redis.url), node, heartbeat_seconds=0.5, key=KEY, commands_url=private_redis.url
    )
    server = Server(private_redis.url, node)
    runner.start()
    try:
        assert server.until(lambda: any(m["type"] == "snapshot" for m in server.messages))
        first = server.messages[0]
        assert (first["type"], first["seq"], first["run"], first["node"]) == ("snapshot", 1, runner.run_id, node)

        a = topo.add_netns("a")
        topo.veth("v0", a, topo.name("h0"), topo.root)
        assert server.until(lambda: matches_scan(server, topo, [a]))
        assert any(m["type"] == "delta" for m in server.messages)
        assert server.until(lambda: server.messages[-1]["type"] == "heartbeat")

        private_redis.stop()  # the broker goes away; the agent keeps watching
        b = topo.add_netns("b")
        topo.veth("v1", b, topo.name("h1"), topo.root)
        deadline = time.monotonic() + 5
        while b.inode not in runner.watcher.state.namespaces and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.inode in runner.watcher.state.namespaces  # still watching while the broker is away
        time.sleep(1.0)
        private_redis.start()  # a fresh, empty Redis on the same port
        server.reconnect()
        before = len(server.messages)
        assert server.until(lambda: any(m["type"] == "snapshot" for m in server.messages[before:]), timeout=15)
        assert server.until(lambda: matches_scan(server, topo, [a, b]))
        seqs = [m["seq"] for m in server.messages]
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        assert {m["run"] for m in server.messages} == {runner.run_id}

        snapshots = sum(m["type"] == "snapshot" for m in server.messages)
        for name in ("reboot", "resync"):  # the first is rejected, the second runs
            command = {"v": PROTOCOL_VERSION, "type": "command", "command": name, "id": str(uuid.uuid4())}
            send_command(private_redis.url, node, json.dumps(command))
        assert server.until(lambda: sum(m["type"] == "snapshot" for m in server.messages) == snapshots + 1)
        assert runner.executor.rejected == 1 and runner.executor.executed == 1
    finally:
        runner.stop()
        server.close()
