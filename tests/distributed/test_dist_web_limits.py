"""Distributed mode's web process is nsmap_serve too (compose, Dockerfile, docs, this harness):
nsmap's limits hold there as in embedded mode — a URL over 16 KiB gets 414, a WebSocket message
over NSMAP_WS_MAX_INBOUND is refused inside Daphne — while a graph far over Daphne's default
1 MiB message size is still sent."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.distributed.harness import Cluster, ingest_fake_snapshot
from tests.webui.test_serve_limits import status_of

pytestmark = [pytest.mark.distributed]


def test_it_answers_a_long_url_with_414_and_refuses_a_big_websocket_message(make_cluster) -> None:
    cluster: Cluster = make_cluster()
    cluster.start_web()
    base = f"http://127.0.0.1:{cluster.port}"
    assert status_of(f"{base}/api/v1/nodes/?q={'x' * 20_000}") == 414, "a 20 KB URL did not get 414"

    node, key = cluster.node, cluster.add_node()
    outcome = ingest_fake_snapshot(cluster.env(), node, 800, key)
    assert "applied" in outcome, outcome
    url = f"ws://127.0.0.1:{cluster.port}/ws/topology/"
    token = cluster.session.token
    with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None) as ws:
        graph = str(ws.recv(timeout=30))
        assert '"type":"graph"' in graph and len(graph) > 1024 * 1024, f"the graph sent was {len(graph)} bytes"
        ws.send('{"type": "ping", "pad": "' + "x" * 100_000 + '"}')
        with pytest.raises(ConnectionClosed):  # autobahn fails the connection before the consumer sees it
            while True:
                assert '"pong"' not in str(ws.recv(timeout=10)), "a message over the limit reached the application"
