"""A scan names each namespace's owner from the real /proc (command lines, cgroups) and the
runtime's state files; a malformed state file or a runtime API that hangs leaves the owner
unknown, with the reason in the errors list, and never breaks or stalls the scan."""

from __future__ import annotations

import json
import os
import secrets
import socket
import tempfile
from collections.abc import Iterator

import pytest

from agent.discovery import Discoverer
from agent.owners import OwnerResolver
from tests.agent.inventory_view import View
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def scan_with(owners: OwnerResolver, discoverer: Discoverer | None = None) -> View:
    if discoverer is not None:
        return View(discoverer.scan())
    with Discoverer(owners=owners) as fresh:
        return View(fresh.scan())


@pytest.fixture
def docker_root() -> Iterator[str]:
    """A private stand-in for /var/lib/docker: the test writes container state files into it."""
    with tempfile.TemporaryDirectory(prefix="nsmap-docker-") as root:
        yield root


def write_config(root: str, cid: str, text: str) -> str:
    folder = os.path.join(root, "containers", cid)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "config.v2.json")
    with open(path + ".tmp", "w") as handle:  # as dockerd writes it: a new file renamed over
        handle.write(text)
    os.replace(path + ".tmp", path)
    return path


def config_named(name: str, project: str | None = None) -> str:
    labels = {"com.docker.compose.project": project} if project else {}
    return json.dumps({"Name": f"/{name}", "Config": {"Labels": labels}, "NetworkSettings": {"Networks": {"b": {}}}})


def test_it_names_a_mininet_host_by_its_shell(topo: Topology) -> None:
    host = topo.process_netns(("python3", "-c", "import time; time.sleep(600)", "mininet:h7"))

    record = scan_with(OwnerResolver()).ns(host)

    assert record.owner is not None, "no owner for a process carrying mininet:h7"
    assert (record.owner.runtime, record.owner.name) == ("mininet", "h7")
    assert record.label == "h7"
    assert record.pids[0].pid == host.pid  # the pid stays in the details


def test_it_names_a_docker_container_from_its_state_and_follows_a_rename(topo: Topology, docker_root: str) -> None:
    cid = secrets.token_hex(32)
    ctr = topo.container_netns(cid)
    write_config(docker_root, cid, config_named("web-1", project="shop"))
    owners = OwnerResolver(docker_root=docker_root)

    with Discoverer(owners=owners) as discoverer:
        record = scan_with(owners, discoverer).ns(ctr)
        assert record.owner is not None
        assert (record.owner.runtime, record.owner.name, record.owner.id) == ("docker", "web-1", cid)
        assert record.owner.project == "shop"
        assert (record.label, record.container_id) == ("web-1", cid)

        write_config(docker_root, cid, config_named("web-2"))  # `docker rename web-1 web-2`
        renamed = scan_with(owners, discoverer).ns(ctr)
    assert renamed.label == "web-2", "the cached owner was not refreshed when the state file changed"


def test_it_keeps_scanning_when_a_state_file_is_malformed(topo: Topology, docker_root: str) -> None:
    cid = secrets.token_hex(32)
    ctr = topo.container_netns(cid)
    path = write_config(docker_root, cid, '{"Name": "/web-1", "Config": ')

    view = scan_with(OwnerResolver(docker_root=docker_root))

    record = view.ns(ctr)
    assert record.owner is not None and record.owner.name is None and record.owner.id == cid
    assert record.label == cid[:12]
    assert any("malformed" in e and path in e for e in view.inventory.errors), view.inventory.errors


def test_it_gives_up_on_a_runtime_api_that_hangs(topo: Topology, docker_root: str) -> None:
    cid = secrets.token_hex(32)
    ctr = topo.container_netns(cid)
    with tempfile.TemporaryDirectory(prefix="nsmap-api-") as folder, socket.socket(socket.AF_UNIX) as server:
        path = os.path.join(folder, "docker.sock")
        server.bind(path)
        server.listen(8)  # accepts connections (the kernel does) and never answers
        owners = OwnerResolver(docker_root=docker_root, docker_api=path, api_timeout=0.2)

        with Discoverer(owners=owners) as discoverer:
            first = scan_with(owners, discoverer)
            second = scan_with(owners, discoverer)

    owner = first.ns(ctr).owner
    assert owner is not None and owner.id == cid and owner.name is None
    assert any("timed out" in e for e in first.inventory.errors), first.inventory.errors
    assert any("not asked" in e for e in second.inventory.errors), "a failed API is asked again at once"


POD_UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def test_it_names_a_kubernetes_pod_from_its_sandbox_annotations(topo: Topology) -> None:
    cid = secrets.token_hex(32)
    sandbox = topo.join_cgroup(topo.process_netns(), "kubepods", "besteffort", f"pod{POD_UID}", cid)
    with tempfile.TemporaryDirectory(prefix="nsmap-cri-") as bundles:
        os.makedirs(os.path.join(bundles, cid))
        with open(os.path.join(bundles, cid, "config.json"), "w") as handle:
            json.dump(
                {
                    "annotations": {
                        "io.kubernetes.cri.container-type": "sandbox",
                        "io.kubernetes.cri.sandbox-name": "nginx-7d9f",
                        "io.kubernetes.cri.sandbox-namespace": "default",
                        "io.kubernetes.cri.sandbox-uid": POD_UID,
                    }
                },
                handle,
            )
        owners = OwnerResolver(bundles=(os.path.join(bundles, "{id}", "config.json"),), pod_logs="/nonexistent")

        record = scan_with(owners).ns(sandbox)

    assert record.owner is not None
    assert (record.owner.runtime, record.owner.pod, record.owner.pod_namespace) == (
        "containerd",
        "nginx-7d9f",
        "default",
    )
    assert record.owner.pod_uid == POD_UID and record.label == "default/nginx-7d9f"


def test_it_names_a_pod_and_its_containers_from_the_kubelet_log_folders(topo: Topology) -> None:
    cid = secrets.token_hex(32)
    sandbox = topo.join_cgroup(topo.process_netns(), "kubepods", "burstable", f"pod{POD_UID}", cid)
    with tempfile.TemporaryDirectory(prefix="nsmap-pods-") as logs:
        for container in ("nginx", "sidecar"):
            os.makedirs(os.path.join(logs, f"shop_web-0_{POD_UID}", container))
        owners = OwnerResolver(bundles=(), pod_logs=logs)

        record = scan_with(owners).ns(sandbox)

    assert record.owner is not None and record.label == "shop/web-0"
    assert record.owner.containers == ("nginx", "sidecar") and record.owner.id == cid


def test_it_leaves_out_a_name_the_protocol_refuses_and_says_so(topo: Topology) -> None:
    host = topo.process_netns(("python3", "-c", "import time; time.sleep(600)", "mininet:h<1>"))

    view = scan_with(OwnerResolver())

    record = view.ns(host)
    assert record.owner is not None and record.owner.runtime == "mininet" and record.owner.name is None
    assert record.label.startswith("pid ")
    assert any("h<1>" in e and "not allow" in e for e in view.inventory.errors), view.inventory.errors
