"""Who owns a namespace, read from what the runtimes leave: cgroup paths, command lines and state
files (pure parsers, no root needed)."""

from __future__ import annotations

import json

import pytest

from agent.owners import (
    Hint,
    docker_owner,
    make_owner,
    oci_owner,
    parse_cgroup,
    parse_cmdline,
    parse_own_cmdline,
    parse_parent_cmdline,
    parse_pod_log_dir,
    podman_names,
)

CID = "3f4e" * 16
POD_UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"0::/docker/{CID}\n", Hint("docker", id=CID)),  # cgroupfs driver, v2
        (f"12:memory:/docker/{CID}\n11:pids:/docker/{CID}\n", Hint("docker", id=CID)),  # v1
        (f"0::/system.slice/docker-{CID}.scope\n", Hint("docker", id=CID)),
        (f"0::/machine.slice/libpod-{CID}.scope/container\n", Hint("podman", id=CID)),
        (f"0::/libpod_parent/libpod-{CID}\n", Hint("podman", id=CID)),  # cgroupfs manager
        (f"0::/system.slice/cri-containerd-{CID}.scope\n", Hint("containerd", id=CID)),
        (f"0::/system.slice/crio-{CID}.scope\n", Hint("cri-o", id=CID)),
        (r"0::/machine.slice/machine-router\x2da.scope/payload" + "\n", Hint("systemd-nspawn", name="router-a")),
        ("0::/lxc.payload.web-1/init.scope\n", Hint("lxc", name="web-1")),
        ("4:pids:/lxc/web-1\n", Hint("lxc", name="web-1")),
        (
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            + POD_UID.replace("-", "_")
            + f".slice/cri-containerd-{CID}.scope\n",
            Hint("containerd", id=CID, pod_uid=POD_UID),
        ),
        (f"0::/kubepods/besteffort/pod{POD_UID}/{CID}\n", Hint("containerd", id=CID, pod_uid=POD_UID)),
        ("0::/user.slice/user-1000.slice/session-3.scope\n", None),
        ("0::/\n", None),
    ],
)
def test_it_reads_the_owner_from_a_cgroup_path(text: str, expected: Hint | None) -> None:
    assert parse_cgroup(text) == expected, f"cgroup {text!r}"


def test_it_reads_a_mininet_host_name_from_its_shell() -> None:
    argv = parse_cmdline(b"bash\0--norc\0--noediting\0-is\0mininet:h1\0")
    assert parse_own_cmdline(argv) == Hint("mininet", name="h1")
    assert parse_own_cmdline(["bash", "-c", "echo mininet"]) is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["/usr/bin/conmon", "--api-version", "1", "-c", CID, "-u", CID, "-n", "web-1", "-r", "/usr/sbin/runc"],
            Hint("podman", id=CID, name="web-1"),
        ),
        (["/usr/bin/conmon", f"--cid={CID}", "--name=db"], Hint("podman", id=CID, name="db")),
        (
            ["systemd-nspawn", "--register=no", "--keep-unit", "--as-pid2", "-D", "/srv/r1", "-M", "router-a"],
            Hint("systemd-nspawn", name="router-a"),
        ),
        (["systemd-nspawn", "--machine=m2", "-D", "/srv/x"], Hint("systemd-nspawn", name="m2")),
        (["systemd-nspawn", "--directory=/var/lib/machines/edge/"], Hint("systemd-nspawn", name="edge")),
        (["[lxc monitor]", "/var/lib/lxc", "web-1"], Hint("lxc", name="web-1")),
        (["[lxc monitor] /var/lib/lxc web-2"], Hint("lxc", name="web-2")),
        (["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", CID], None),
        ([], None),
    ],
)
def test_it_reads_the_owner_from_the_parent_runtime_process(argv: list[str], expected: Hint | None) -> None:
    assert parse_parent_cmdline(argv) == expected, f"argv {argv}"


def docker_config(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "ID": CID,
        "Name": "/web-1",
        "Config": {"Labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"}},
        "NetworkSettings": {"Networks": {"shop_default": {}, "bridge": {}}},
    }
    data.update(extra)
    return data


def test_it_names_a_docker_container_from_its_config() -> None:
    owner = docker_owner(json.loads(json.dumps(docker_config())), CID)
    assert (owner.runtime, owner.name, owner.id, owner.project) == ("docker", "web-1", CID, "shop")
    assert owner.containers == ("web-1",)
    assert owner.networks == ("bridge", "shop_default")
    assert owner.label == "web-1"


@pytest.mark.parametrize("bad", [[], {"Name": 5}, {"Name": "/x", "Config": {"Labels": []}}])
def test_it_refuses_a_docker_config_of_another_shape(bad: object) -> None:
    with pytest.raises(ValueError):
        docker_owner(bad, CID)


def test_it_drops_a_docker_name_the_protocol_does_not_allow() -> None:
    dropped: list[str] = []
    owner = make_owner("docker", dropped, name="evil\n<b>", id=CID, containers=["ok", "bad\x00"])
    assert owner.name is None and owner.id == CID and owner.containers == ("ok",)
    assert dropped == ["name", "containers"]


def test_it_names_a_kubernetes_pod_from_cri_annotations() -> None:
    containerd = {
        "annotations": {
            "io.kubernetes.cri.container-type": "sandbox",
            "io.kubernetes.cri.sandbox-name": "nginx-7d9f",
            "io.kubernetes.cri.sandbox-namespace": "default",
            "io.kubernetes.cri.sandbox-uid": POD_UID,
        }
    }
    owner = oci_owner(containerd, "containerd", CID)
    assert (owner.pod, owner.pod_namespace, owner.pod_uid) == ("nginx-7d9f", "default", POD_UID)
    assert owner.label == "default/nginx-7d9f"
    crio = {
        "annotations": {
            "io.kubernetes.pod.name": "api-0",
            "io.kubernetes.pod.namespace": "prod",
            "io.kubernetes.pod.uid": POD_UID,
            "io.kubernetes.container.name": "POD",
        }
    }
    owner = oci_owner(crio, "cri-o", CID)
    assert (owner.runtime, owner.pod, owner.pod_namespace, owner.containers) == ("cri-o", "api-0", "prod", ())


def test_it_reads_a_pod_from_the_kubelet_log_folder_name() -> None:
    assert parse_pod_log_dir(f"default_nginx-7d9f_{POD_UID}") == ("default", "nginx-7d9f", POD_UID)
    assert parse_pod_log_dir("not-a-pod") is None


def test_it_reads_podman_names_from_its_storage() -> None:
    data = [
        {"id": CID, "names": ["web-1"], "metadata": '{"name":"web-1"}'},
        {"id": "ab" * 32, "names": []},
        {"names": ["no-id"]},
    ]
    assert podman_names(json.loads(json.dumps(data))) == {CID: "web-1"}
    with pytest.raises(ValueError):
        podman_names({"id": CID})
