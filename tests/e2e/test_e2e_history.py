"""History, as a person uses it, against the real kernel through the embedded server:
- the history page filtered by interface name and by actor (a lab command run by a user, and what
  the host did by itself), exported as CSV;
- the dashboard moved back before a change (the slider, then a shared ?at= link) shows the old
  graph, read-only and marked "as of", and "Live" comes back;
- a diff of two moments marks what changed on the graph and lists it.
Screenshots go to artifacts/screenshots/history-*.png (look at them)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, axe, goto, login, serious, shot, wait_js
from tests.kernel_topology import Topology

pytestmark = pytest.mark.e2e

# In the page: the MTU of the interface called `name` (first match), or null.
FIND = "(name) => [...nsmapApp.store.interfaces.values()].find(x => x.name === name)"
MTU_OF = f"(name) => {{ const i = ({FIND})(name); return i ? i.mtu : null; }}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def api(page: Any, method: str, path: str, body: Any = None) -> Any:
    """A request from the signed-in page (session cookie, CSRF token from the cookie)."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
            const r = await fetch(path, {method, credentials: "same-origin",
              headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json"},
              body: body === null ? undefined : JSON.stringify(body)});
            return {status: r.status, body: await r.json()};
        }""",
        [method, path, body],
    )


def settle(page: Any, server: Server, name: str, mtu: int) -> str:
    """Wait until the live page shows `name` with `mtu`; then the moment (a little later)."""
    wait_js(page, f"(mtu) => ({MTU_OF})({json.dumps(name)}) === mtu", mtu)
    time.sleep(0.3)
    return now_iso()


def test_it_reviews_changes_travels_back_and_diffs(server: Server, page: Any, console: Console, topo: Topology) -> None:
    login(page, server, "e2e-admin", "/?view=graph")
    wait_js(page, "() => window.nsmapApp && nsmapApp.connection === 'live'")
    ns = topo.add_netns("hist")
    host_end = topo.name("h")
    topo.veth(host_end, topo.root, "eth0", ns)
    before = settle(page, server, host_end, 1500)

    topo.mtu(topo.root, host_end, 1400)
    after_mtu = settle(page, server, host_end, 1400)

    # a user's command: a veth pair made by the agent on the page's behalf
    lab = topo.name("lab")  # in root; it goes with its peer when the test's namespace is deleted
    # This machine's root namespace: earlier tests of the session may have left other hosts on the map.
    root = page.evaluate(
        f"(name) => {{ const host = ({FIND})(name).host;"
        " return [...nsmapApp.store.namespaces.values()].find(n => n.kind === 'root' && n.host === host); }",
        host_end,
    )
    made = api(
        page,
        "POST",
        "/api/v1/commands/",
        {"node": root["host"], "verb": "veth.create",
         "args": {"a": {"namespace": ns.name, "name": "lab0"}, "b": {"namespace": root["id"], "name": lab}}},
    )  # fmt: skip
    assert made["status"] == 202, made
    command = made["body"]["id"]
    wait_js(page, f"() => ({MTU_OF})({json.dumps(lab)}) === 1500")
    wait_js(
        page, "(id) => fetch(`/api/v1/commands/${id}/`).then(r => r.json()).then(c => c.status === 'done')", command
    )

    # -- the history page: by interface name, by actor, exported --------------------------------
    goto(page, f"{server.url}/history/?interface={host_end}")
    wait_js(page, "() => document.querySelectorAll('#history-rows tr').length > 0")
    rows = page.locator("#history-rows tr")
    text = rows.all_inner_texts()
    assert any("mtu" in t and "1500" in t and "1400" in t for t in text), f"no MTU change row for {host_end}: {text}"
    assert all(host_end in t for t in text), "the interface filter let other interfaces through"
    assert page.evaluate("() => new URL(location.href).searchParams.get('interface')") == host_end
    shot(page, "history-by-interface")
    assert not serious(axe(page, f"{server.url}/static")), "axe: serious violations on the history page"

    page.fill("input[name=interface]", "")
    page.fill("input[name=actor]", "user")
    page.click("#history-filters button[type=submit]")
    wait_js(page, "() => (document.querySelector('#history-rows').dataset.query || '').includes('actor=user')")
    by_user = page.locator("#history-rows tr").all_inner_texts()
    assert by_user and all("user:e2e-admin" in t for t in by_user), by_user
    assert any(lab in t for t in by_user), f"the command's veth is not attributed to its user: {by_user}"
    assert any("added" in t for t in by_user), f"the new pair's first appearance is not the user's: {by_user}"
    assert page.locator("#history-rows a[href*='/commands/']").count() > 0, "no link to the command"
    shot(page, "history-by-actor")

    with page.expect_download() as download:
        page.click("#history-export-csv")
    csv_text = download.value.path().read_text(encoding="utf-8")
    header, *records = csv_text.splitlines()
    assert header.startswith("id,time,node,object_kind,object_id,name,action,fields,actor")
    assert records and all("user:e2e-admin" in r for r in records), "the export is not what is filtered"

    # -- the dashboard: back before the MTU change, with the slider and with a link -------------
    goto(page, f"{server.url}/?view=graph")
    wait_js(page, "() => window.nsmapApp && nsmapApp.connection === 'live'")
    page.click(".nsm-tt summary")
    wait_js(page, "() => document.querySelectorAll('.nsm-tt .act-bar').length > 0")
    page.locator("#nsm-slider").evaluate("(s) => { s.value = '0'; s.dispatchEvent(new Event('change')); }")
    wait_js(page, "() => nsmapApp.timeTravel.asOf !== null")
    assert page.evaluate(f"() => ({MTU_OF})({json.dumps(lab)})") is None, "the slider's start still shows a later veth"
    assert page.locator(".nsm-banner").inner_text().startswith("As of")

    goto(page, f"{server.url}/?view=graph&at={before}")
    wait_js(page, f"() => ({MTU_OF})({json.dumps(host_end)}) === 1500")
    banner = page.locator(".nsm-banner")
    assert banner.is_visible() and "As of" in banner.inner_text() and "read-only" in banner.inner_text()
    shot(page, "history-as-of")
    assert not serious(axe(page, f"{server.url}/static")), "axe: serious violations in the as-of view"
    topo.mtu(topo.root, host_end, 1300)  # a live change while the past is shown does not reach it
    time.sleep(1.0)
    assert page.evaluate(f"() => ({MTU_OF})({json.dumps(host_end)})") == 1500, "a live patch changed the past"
    banner.locator("button", has_text="Back to live").click()
    wait_js(page, f"() => ({MTU_OF})({json.dumps(host_end)}) === 1300")
    assert not banner.is_visible() and "at=" not in page.url

    # -- a diff of two moments ---------------------------------------------------------------------
    then = api(page, "GET", f"/api/v1/topology/?at={after_mtu}", None)["body"]
    names = {i["name"] for i in then["interfaces"]}
    assert host_end in names and lab not in names and "lab0" not in names, f"at {after_mtu}: {sorted(names)[:20]}"
    goto(page, f"{server.url}/?view=graph&from={before}&at={after_mtu}")
    wait_js(page, "() => document.querySelectorAll('.nsm-tt-changed li').length > 0")
    changed = page.locator(".nsm-tt-changed").inner_text()
    assert host_end in changed and "mtu" in changed, changed
    marked = page.evaluate(
        f"(name) => {{ const i = ({FIND})(name); return i && i.diff; }}",
        host_end,
    )
    assert marked == "changed"
    shot(page, "history-diff")
