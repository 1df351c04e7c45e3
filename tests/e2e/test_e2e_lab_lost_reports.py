"""A command's outcome reaches the page even when its reports were lost: the server cuts a slow
page's socket off and the page reconnects, but nothing replays the command reports sent in
between. The page asks the API for its unfinished commands once the socket is back. (The ping
goes to the namespace's own loopback: no edge to draw it on, and its details say so.)"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import (
    LIVE_TIMEOUT_MS,
    Console,
    Server,
    lab_button,
    lab_done,
    lab_form,
    ns_id,
    open_graph,
    wait_js,
)
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e

SERVER_STATUS = """async (id) => {
  const r = await fetch('/api/v1/commands/' + id + '/', { credentials: 'same-origin' });
  return (await r.json()).status;
}"""


def test_it_shows_a_ping_done_whose_reports_were_lost(
    server: Server, page: Any, console: Console, topo: Topology
) -> None:
    lab = topo.add_netns("-lost")
    topo.ip(lab, "link", "set", "lo", "up")
    losing = {"on": False, "lost": 0, "sockets": []}

    def route(ws: Any) -> None:
        """Forward both ways, but drop command reports to the page while ``losing`` is on."""
        upstream = ws.connect_to_server()
        losing["sockets"].append(ws)

        def down(message: str | bytes) -> None:
            if losing["on"] and isinstance(message, str) and '"type":"command"' in message:
                losing["lost"] += 1
                return
            ws.send(message)

        upstream.on_message(down)
        ws.on_message(upstream.send)

    page.route_web_socket("**/ws/topology/", route)
    open_graph(page, server, "e2e-admin")
    page.evaluate("(id) => nsmapApp.select(id)", ns_id(page, lab.name))
    lab_button(page, "Ping…").click()
    form = lab_form(page)
    form.locator("[name='address']").fill("127.0.0.1")
    form.locator("[name='count']").fill("2")  # a second or so: its reports come after the POST's answer
    losing["on"] = True
    form.get_by_role("button", name="Ping").click()
    command = wait_js(page, "() => nsmapApp.lab.commands.find((c) => c.verb === 'ping') || null")
    deadline = time.monotonic() + LIVE_TIMEOUT_MS / 1000
    while page.evaluate(SERVER_STATUS, command["id"]) != "done":
        assert time.monotonic() < deadline, "the ping never finished on the server"
        page.wait_for_timeout(200)  # the page's socket keeps running meanwhile
    status = page.evaluate("() => nsmapApp.lab.commands.find((c) => c.verb === 'ping').status")
    assert losing["lost"] and status not in ("done", "failed"), (
        f"the reports were meant to be lost here (lost {losing['lost']}, page says {status})"
    )

    losing["on"] = False
    losing["sockets"][-1].close()  # as the server does to a slow reader: the page reconnects
    (ping,) = lab_done(page, "ping")
    assert ping["result"]["sent"] == 2, ping
    last = page.locator(".nsm-details .nsm-ping-last").inner_text()
    assert "Not shown on a link: 127.0.0.1 is in this namespace itself" in last, (
        f"a ping that crosses no link says why nothing is drawn: {last}"
    )
    console.check()
