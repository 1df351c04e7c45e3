"""Named containers on the page: Podman containers appear under the names Podman gives them, in
the graph and the table, found by `ctr:NAME`; a pod is found by `pod:NAME` (pure model, offline)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Console, Server, open_graph, open_harness, shot, wait_js
from tests.kernel_topology import new_prefix
from tests.runtimes import busybox_rootfs, ensure_packages, host_restored, podman_run

pytestmark = pytest.mark.e2e

POD_UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.fixture
def containers(needs_root: None) -> Iterator[list[str]]:
    """Two Podman containers on its bridge (web-1, db-1 with a fresh prefix), removed after;
    the host's forwarding, nft tables and bridges put back as found, and checked."""
    ensure_packages("podman", "netavark", "aardvark-dns", "runc", "iptables", "busybox-static")
    prefix = new_prefix()
    names = [f"{prefix}-web-1", f"{prefix}-db-1"]
    with host_restored(), tempfile.TemporaryDirectory(prefix="nsmap-e2e-rootfs-") as folder:
        rootfs = busybox_rootfs(os.path.join(folder, "rootfs"))
        try:
            for name in names:
                podman_run(name, rootfs)
            yield names
        finally:
            subprocess.run(["podman", "rm", "-f", "-t", "0", *names], capture_output=True, timeout=120)


def test_it_shows_containers_under_their_names(
    server: Server, page: Any, console: Console, containers: list[str]
) -> None:
    open_graph(page, server, "e2e-viewer")
    web, db = containers
    podman_ids = {
        n: json.loads(subprocess.run(["podman", "inspect", n], capture_output=True, check=True).stdout)[0]["Id"]
        for n in containers
    }
    wait_js(
        page,
        """(names) => names.every((name) => [...nsmapApp.store.namespaces.values()]
             .some((n) => n.owner && n.owner.name === name && n.label === name))""",
        containers,
    )
    page.fill("#nsm-q", f"ctr:{web}")
    page.keyboard.press("Enter")
    hits = page.locator(".nsm-hits button")
    hits.first.wait_for()
    texts = [hits.nth(k).inner_text() for k in range(hits.count())]
    assert any(web in t for t in texts), texts
    assert not any(db in t for t in texts), f"ctr:{web} also matched {db}: {texts}"
    graph_label = page.evaluate(
        """(name) => {
          const ns = [...nsmapApp.store.namespaces.values()].find((n) => n.owner && n.owner.name === name);
          const el = nsmapApp.cy.getElementById(ns.id);
          return el.nonempty() ? el.data('label') : null;
        }""",
        web,
    )
    assert graph_label is not None and web in graph_label, graph_label
    hits.filter(has_text=web).first.click()  # the namespace's details: pid and id are still there
    details = page.locator(".nsm-details")
    details.get_by_text(podman_ids[web]).first.wait_for()
    shot(page, "owner-ctr-search")
    page.click("text=Clear")
    page.click("text=Fit")
    shot(page, "owner-graph")

    page.fill("#nsm-q", f"ctr:{podman_ids[db][:12]}")  # the id finds it too
    page.keyboard.press("Enter")
    page.locator(".nsm-hits button", has_text=db).first.wait_for()

    page.click('[data-act="view-table"]')
    page.fill("#nsm-q", f"ctr:{web.rsplit('-', 2)[0]}")  # both, by their common prefix
    page.keyboard.press("Enter")
    rows = page.locator(".nsm-table tbody tr")
    rows.first.wait_for()
    table = page.locator(".nsm-table tbody").inner_text()
    assert web in table and db in table, table
    shot(page, "owner-table")
    console.check()


def test_it_finds_a_pod_by_its_name(page: Any, static_url: str, console: Console) -> None:
    open_harness(page, f"{static_url}/nsmap/harness.html?view=graph")
    r = page.evaluate(
        """(uid) => {
          const M = nsmapModel, s = new M.Store(), g = M.syntheticGraph(3);
          g.namespaces[1].owner = { runtime: "containerd", name: null, id: "ab".repeat(32), pod: "nginx-7d9f",
            pod_namespace: "default", pod_uid: uid, containers: ["nginx"], project: null, networks: [] };
          g.namespaces[2].owner = { runtime: "docker", name: "web-1", id: "cd".repeat(32), pod: null,
            pod_namespace: null, pod_uid: null, containers: ["web-1"], project: "shop", networks: ["shop_default"] };
          s.load(g);
          const ids = (q) => M.search(s, q).namespaces;
          return { label: M.nsLabel(s.namespaces.get(g.namespaces[1].id)), pod: ids("pod:nginx"),
                   podNs: ids("pod:default/nginx"), uid: ids("pod:" + uid.slice(0, 8)), ctr: ids("ctr:web-1"),
                   wrong: ids("pod:web-1"), row: M.tableRows(s).find((row) => row.nsId === g.namespaces[2].id).owner,
                   one: g.namespaces[1].id, two: g.namespaces[2].id,
                   dot: M.toDot(s).includes('label="default/nginx-7d9f"') };
        }""",
        POD_UID,
    )
    assert r["label"] == "default/nginx-7d9f"
    assert r["pod"] == r["podNs"] == r["uid"] == [r["one"]]
    assert r["ctr"] == [r["two"]] and r["wrong"] == []
    assert r["row"] == "docker web-1"
    assert r["dot"], "the dot export does not label the pod by its name"
    console.check()
