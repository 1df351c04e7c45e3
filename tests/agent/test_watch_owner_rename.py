"""The live agent follows a container rename: the runtime rewrites its state file, the periodic
/proc pass notices (one stat per state file) and republishes the namespace under its new name,
without a full rescan."""

from __future__ import annotations

import json
import os
import secrets
import tempfile

import pytest

from agent.owners import OwnerResolver
from agent.protocol import namespace_key
from tests.agent.watch_support import pump_until, watching
from tests.kernel_topology import Topology

pytestmark = pytest.mark.kernel


def write_config(root: str, cid: str, name: str) -> None:
    folder = os.path.join(root, "containers", cid)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "config.v2.json")
    with open(path + ".tmp", "w") as handle:  # as dockerd writes it: a new file renamed over
        json.dump({"Name": f"/{name}", "Config": {"Labels": {}}, "NetworkSettings": {"Networks": {}}}, handle)
    os.replace(path + ".tmp", path)


def test_it_republishes_a_renamed_container(topo: Topology) -> None:
    cid = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="nsmap-docker-") as docker_root, watching(proc_seconds=0.05) as (w, rec):
        assert w.discoverer is not None
        w.discoverer.owners = OwnerResolver(docker_root=docker_root)  # the test's stand-in for /var/lib/docker
        write_config(docker_root, cid, "web-1")
        ctr = topo.container_netns(cid)
        key = namespace_key(ctr.inode)
        assert pump_until(w, lambda: (rec.namespaces.get(key, {}).get("owner") or {}).get("name") == "web-1")
        reconciles = w.stats["reconciles"]

        write_config(docker_root, cid, "web-2")  # `docker rename web-1 web-2`

        assert pump_until(w, lambda: rec.namespaces[key]["owner"]["name"] == "web-2", timeout=5), "rename missed"
        assert w.state.namespaces[ctr.inode].label == "web-2"
        assert w.stats["reconciles"] == reconciles, "a full rescan instead of the cheap pass"


def test_it_names_a_container_whose_process_joins_its_cgroup_after_the_namespace_appeared(topo: Topology) -> None:
    cid = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="nsmap-docker-") as docker_root, watching(proc_seconds=0.05) as (w, rec):
        assert w.discoverer is not None
        w.discoverer.owners = OwnerResolver(docker_root=docker_root)
        write_config(docker_root, cid, "late-1")
        proc = topo.process_netns()  # the runtime has made the namespace, not yet the cgroup move
        key = namespace_key(proc.inode)
        assert pump_until(w, lambda: key in rec.namespaces)
        assert rec.namespaces[key]["owner"] is None

        topo.join_container_cgroup(proc, cid)

        assert pump_until(w, lambda: (rec.namespaces[key]["owner"] or {}).get("name") == "late-1", timeout=8)
