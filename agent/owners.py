"""Who owns a network namespace: the runtime, and the names it gives (container, pod, machine, host).

One module, though long: each runtime's rule is a few lines, and they share the cache, the order
of the sources and the way a failure becomes a reason; split per runtime they would repeat that.

Sources, cheapest first; none of them may block or break a scan (a problem is a reason in the
errors list, the owner stays unknown or partial):
  the cgroup of the namespace's lowest pid   /docker/<id> (cgroupfs), docker-/libpod-/
                                             cri-containerd-/crio-<id>.scope (systemd),
                                             machine-NAME.scope, lxc.payload.NAME, kubepods pod UID
  its command line and its parent's          `bash ... mininet:h1`; conmon -n NAME -c ID (Podman);
                                             systemd-nspawn -M NAME; "[lxc monitor] PATH NAME"
  the runtimes' state files                  Docker's containers/<id>/config.v2.json; Podman's
                                             containers.json (containers/storage); an OCI bundle's
                                             config.json annotations (CRI); /var/log/pods
  the Docker API, when a setting allows it   GET /containers/<id>/json, read-only, with a timeout

The parsers (parse_*, docker_owner, podman_names, oci_owner) are pure; OwnerResolver does the reading and
caches per namespace (keyed by its lowest pid) and per state file (keyed by its stat).
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from agent.protocol import OWNER_LISTS, OWNER_MAX_LIST, Owner, owner_text_ok

PROC = "/proc"
DOCKER_ROOT = "/var/lib/docker"
POD_LOGS = "/var/log/pods"
PODMAN_CONTAINERS = "/var/lib/containers/storage/overlay-containers/containers.json"  # its storage's names
OCI_BUNDLES = (
    "/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/config.json",
    "/run/containerd/io.containerd.runtime.v2.task/moby/{id}/config.json",
    "/run/containers/storage/overlay-containers/{id}/userdata/config.json",
)
API_BACKOFF = 30.0  # s without asking an API that failed
HINT_RETRY = 1.0  # s before a namespace whose process named no owner is looked at again
HINT_WINDOW = 10.0  # s after a namespace appeared during which that is done
MAX_STATE_BYTES = 4 << 20  # a state file larger than this is not read
MAX_CACHED_FILES = 4096

HEX64 = r"[0-9a-f]{64}"
POD_UID = r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})"
# (runtime, pattern with the id in group 1) in the order they are tried on one cgroup line
CGROUP_IDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("docker", re.compile(rf"/docker[-/]({HEX64})(?:\.scope)?(?:/|$)")),
    ("podman", re.compile(rf"/libpod-(?:conmon-)?({HEX64})(?:\.scope)?(?:/|$)")),  # systemd, cgroupfs
    ("containerd", re.compile(rf"/cri-containerd-({HEX64})\.scope(?:/|$)")),
    ("cri-o", re.compile(rf"/crio-(?:conmon-)?({HEX64})(?:\.scope)?(?:/|$)")),
)
KUBEPODS_ID = re.compile(rf"/kubepods[^\n]*?/{POD_UID}(?:\.slice)?/({HEX64})(?:/|$)")  # cgroupfs driver
CGROUP_POD = re.compile(rf"kubepods[^\n]*?[-/]{POD_UID}(?:\.slice)?(?:/|$)")
CGROUP_MACHINE = re.compile(r"/machine-([^/]+)\.scope(?:/|$)")
CGROUP_LXC = re.compile(r"/lxc(?:\.payload\.|\.payload/|/)([^/]+)(?:/|$)")
MININET = re.compile(r"^mininet:(.+)$")


@dataclass(frozen=True, slots=True)
class Hint:
    """What a process's cgroup or command line tells about its owner."""

    runtime: str
    id: str | None = None
    name: str | None = None
    pod_uid: str | None = None


# -- pure parsers ------------------------------------------------------------------------------


def parse_cgroup(text: str) -> Hint | None:
    """The owner named by /proc/PID/cgroup (v1 or v2 lines "N:controllers:/path")."""
    pod_uid = None
    for line in text.splitlines():
        path = line.split(":", 2)[-1]
        pod = CGROUP_POD.search(path)
        if pod:
            pod_uid = pod.group(1).replace("_", "-")
        for runtime, pattern in CGROUP_IDS:
            match = pattern.search(path)
            if match:
                return Hint(runtime, id=match.group(1), pod_uid=pod_uid)
        match = KUBEPODS_ID.search(path)
        if match:
            return Hint("containerd", id=match.group(2), pod_uid=match.group(1).replace("_", "-"))
        match = CGROUP_MACHINE.search(path)
        if match:
            return Hint("systemd-nspawn", name=unescape_unit(match.group(1)))
        match = CGROUP_LXC.search(path)
        if match:
            return Hint("lxc", name=match.group(1))
    if pod_uid:
        return Hint("containerd", pod_uid=pod_uid)
    return None


def unescape_unit(name: str) -> str:
    r"""systemd's unit-name escaping: "\x2d" is "-"."""
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), name)


def parse_cmdline(raw: bytes) -> list[str]:
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def parse_own_cmdline(argv: list[str]) -> Hint | None:
    """Mininet's host shells carry their host name: `bash --norc --noediting -is mininet:h1`."""
    for arg in argv[1:]:
        match = MININET.match(arg)
        if match:
            return Hint("mininet", name=match.group(1))
    return None


def parse_parent_cmdline(argv: list[str]) -> Hint | None:
    """The runtime process that started a namespace's first process names it."""
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program == "conmon":  # Podman's monitor: conmon ... -c ID -n NAME
        return Hint("podman", id=_option(argv, ("-c", "--cid")), name=_option(argv, ("-n", "--name")))
    if program == "systemd-nspawn":
        name = _option(argv, ("-M", "--machine"))
        if name is None:
            directory = _option(argv, ("-D", "--directory"))
            name = os.path.basename(directory.rstrip("/")) if directory else None
        return Hint("systemd-nspawn", name=name)
    if argv[0] == "[lxc monitor]" and len(argv) >= 3:  # "[lxc monitor] /var/lib/lxc NAME"
        return Hint("lxc", name=argv[2])
    if argv[0].startswith("[lxc monitor] "):  # one string when the title was set with spaces
        parts = argv[0].split(" ")
        if len(parts) >= 4:
            return Hint("lxc", name=parts[3])
    return None


def _option(argv: list[str], names: tuple[str, ...]) -> str | None:
    """The value of an option given as `-n V`, `--name V`, `--name=V` or `-nV`."""
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg[len(name) + 1 :]
            if len(name) == 2 and arg.startswith(name) and len(arg) > 2 and not arg.startswith("--"):
                return arg[2:]
    return None


def docker_owner(data: Any, container_id: str | None) -> Owner:
    """From Docker's config.v2.json or `GET /containers/<id>/json` (same keys): name, compose
    project, networks. Raises ValueError on a document of another shape."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    name = data.get("Name")
    if not isinstance(name, str):
        raise ValueError("no Name")
    labels = _object(_object(data, "Config"), "Labels")
    networks = _object(_object(data, "NetworkSettings"), "Networks")
    name = name.lstrip("/")
    return make_owner(
        runtime="docker",
        name=name,
        id=container_id or data.get("ID"),
        containers=[name],
        project=labels.get("com.docker.compose.project"),
        networks=sorted(networks),
    )


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    """data[key] when it is an object, {} when absent or null; ValueError for anything else."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return value


def podman_names(data: Any) -> dict[str, str]:
    """Container id -> first name, from containers/storage's containers.json (Podman keeps its
    containers' names there, also for --rootfs ones). ValueError on another shape."""
    if not isinstance(data, list):
        raise ValueError("not a JSON list")
    out: dict[str, str] = {}
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            names = item.get("names")
            if isinstance(names, list) and names and isinstance(names[0], str):
                out[item["id"]] = names[0]
    return out


# OCI annotations that name a Kubernetes pod: containerd's CRI plugin, then CRI-O
POD_ANNOTATIONS = (
    ("io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.sandbox-uid"),
    ("io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.pod.uid"),
)
CONTAINER_ANNOTATIONS = ("io.kubernetes.cri.container-name", "io.kubernetes.container.name")


def oci_owner(data: Any, runtime: str, container_id: str | None) -> Owner:
    """From an OCI bundle's config.json: the pod (name, namespace, uid) in its annotations."""
    annotations = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(annotations, dict):
        raise ValueError("no annotations")
    for name_key, namespace_key, uid_key in POD_ANNOTATIONS:
        if name_key in annotations:
            container = next((annotations[k] for k in CONTAINER_ANNOTATIONS if k in annotations), None)
            return make_owner(
                runtime=runtime,
                id=container_id,
                pod=annotations.get(name_key),
                pod_namespace=annotations.get(namespace_key),
                pod_uid=annotations.get(uid_key),
                containers=[container] if isinstance(container, str) and container != "POD" else [],
            )
    return make_owner(runtime=runtime, id=container_id)


def parse_pod_log_dir(name: str) -> tuple[str, str, str] | None:
    """/var/log/pods/NAMESPACE_POD_UID -> (namespace, pod, uid); names hold no underscore."""
    parts = name.split("_")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def make_owner(runtime: str, dropped: list[str] | None = None, **fields: Any) -> Owner:
    """An Owner with only the fields the protocol allows; what it drops is named in ``dropped``."""
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name in OWNER_LISTS:
            kept = [v for v in value or [] if owner_text_ok(name, v)][:OWNER_MAX_LIST]
            if dropped is not None and len(kept) != len(value or []):
                dropped.append(name)
            clean[name] = tuple(kept)
        elif value is None or owner_text_ok(name, value):
            clean[name] = value
        elif dropped is not None:
            dropped.append(name)
    return Owner(runtime=runtime, **clean)  # type: ignore[arg-type]


# -- reading -----------------------------------------------------------------------------------


def docker_api_get(socket_path: str, path: str, timeout: float) -> Any:
    """One read-only request to a Docker-compatible API on a unix socket; the decoded JSON body.
    Raises OSError (also on a timeout) or ValueError (an answer that is not 200 and JSON)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        sock.connect(socket_path)
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: docker\r\nAccept: application/json\r\n\r\n".encode())
        chunks: list[bytes] = []
        size = 0
        while True:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_STATE_BYTES:
                raise ValueError("answer too large")
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split(b" ")
    if len(status) < 2 or status[1] != b"200":
        raise ValueError(f"status {b' '.join(status[1:]).decode('latin-1')[:40] or 'missing'}")
    return json.loads(body)


@dataclass(slots=True)
class _Entry:
    pid: int
    hint: Hint | None
    since: float  # when the hint was read
    first: float  # when this pid was first seen holding the namespace

    def retry_due(self, now: float) -> bool:
        """No owner yet may mean "not yet": a runtime moves its process into the container's cgroup
        just after making the namespace. Looked at again for a while after the namespace appeared."""
        return self.hint is None and now - self.since >= HINT_RETRY and now - self.first < HINT_WINDOW


class OwnerResolver:
    """Finds and caches owners: hints per namespace (by its lowest pid), state files by their stat.

    ``docker_api`` is the Docker API socket to ask when a container's state file cannot be read
    (None: never ask); each failure silences the API for API_BACKOFF seconds.
    """

    def __init__(
        self,
        docker_root: str = DOCKER_ROOT,
        docker_api: str | None = None,
        api_timeout: float = 0.5,
        proc: str = PROC,
        pod_logs: str = POD_LOGS,
        bundles: tuple[str, ...] = OCI_BUNDLES,
        podman_containers: str = PODMAN_CONTAINERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.docker_root = docker_root
        self.docker_api = docker_api
        self.api_timeout = api_timeout
        self.proc = proc
        self.pod_logs = pod_logs
        self.bundles = bundles
        self.podman_containers = podman_containers
        self.clock = clock
        self._by_namespace: dict[int, _Entry] = {}
        self._files: dict[str, tuple[tuple[int, int, int], Any, str | None]] = {}
        self._api: dict[str, Owner] = {}
        self._api_quiet_until = 0.0
        self._pod_dirs: tuple[float, dict[str, tuple[str, str, list[str]]]] | None = None

    def owner(self, inode: int, pids: list[int], errors: list[str], where: str) -> Owner | None:
        """The owner of the namespace ``inode`` whose lowest pids are ``pids``; reasons an owner
        could not be (fully) named go to ``errors``, prefixed with ``where``."""
        if not pids:
            self._by_namespace.pop(inode, None)
            return None
        entry = self._by_namespace.get(inode)
        now = self.clock()
        if entry is None or entry.pid != pids[0]:
            entry = self._by_namespace[inode] = _Entry(pids[0], self._hint(pids[0]), now, now)
        elif entry.retry_due(now):
            entry.hint, entry.since = self._hint(pids[0]), now
        if entry.hint is None:
            return None
        owner, reason = self._enrich(entry.hint)
        if reason:
            errors.append(f"{where}: {reason}")
        return owner

    def changed(self) -> bool:
        """Whether an owner may read differently now: a state file read before has changed (one
        stat each; `docker rename`), or a new namespace's owner is due another look. The live
        agent's cue for a namespace pass."""
        now = self.clock()
        if any(entry.retry_due(now) for entry in self._by_namespace.values()):
            return True
        for path, (stamp, _owner, _reason) in self._files.items():
            try:
                st = os.stat(path)
            except OSError:
                return True
            if (st.st_ino, st.st_size, st.st_mtime_ns) != stamp:
                return True
        return False

    def forget(self, keep: set[int]) -> None:
        """Drop the cache entries of namespaces not in ``keep`` (gone since)."""
        for inode in self._by_namespace.keys() - keep:
            del self._by_namespace[inode]
        if len(self._files) > MAX_CACHED_FILES:  # containers come and go: start the file cache afresh
            self._files.clear()

    def _hint(self, pid: int) -> Hint | None:
        own = self._read_bytes(f"{self.proc}/{pid}/cmdline")
        hint = parse_own_cmdline(parse_cmdline(own)) if own else None
        if hint is None:
            cgroup = self._read_bytes(f"{self.proc}/{pid}/cgroup")
            hint = parse_cgroup(cgroup.decode("utf-8", "replace")) if cgroup else None
        if hint is None or hint.name is None:
            parent = self._parent_hint(pid)
            if parent is not None and (hint is None or hint.runtime == parent.runtime):
                hint = parent if hint is None else replace(hint, name=parent.name, id=hint.id or parent.id)
        return hint

    def _parent_hint(self, pid: int) -> Hint | None:
        stat = self._read_bytes(f"{self.proc}/{pid}/stat")
        if not stat:
            return None
        try:
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        except (IndexError, ValueError):
            return None
        if ppid <= 1:
            return None
        raw = self._read_bytes(f"{self.proc}/{ppid}/cmdline")
        return parse_parent_cmdline(parse_cmdline(raw)) if raw else None

    @staticmethod
    def _read_bytes(path: str) -> bytes | None:
        try:
            with open(path, "rb") as handle:
                return handle.read(65536)
        except OSError:
            return None

    def _enrich(self, hint: Hint) -> tuple[Owner, str | None]:
        """The hint completed from the runtime's state; (owner, why it is incomplete or None)."""
        dropped: list[str] = []
        base = make_owner(hint.runtime, dropped, id=hint.id, name=hint.name, pod_uid=hint.pod_uid)
        if dropped:  # e.g. an LXC or Mininet name with characters the protocol refuses
            return (
                base,
                f"{hint.runtime} {', '.join(dropped)} {hint.name or hint.id!r:.60} left out (not allowed on the wire)",
            )
        if hint.runtime == "docker" and hint.id:
            path = os.path.join(self.docker_root, "containers", hint.id, "config.v2.json")
            owner, reason = self._state_file(path, lambda data: docker_owner(data, hint.id))
            if owner is None and self.docker_api:
                owner, api_reason = self._ask_docker(hint.id)
                reason = None if owner is not None else f"{reason}; {api_reason}"
            return (owner or base), reason
        if hint.runtime == "podman" and hint.id:
            names, reason = self._state_file(self.podman_containers, podman_names)
            name = names.get(hint.id) if names is not None else None
            if name is not None:  # follows `podman rename`, which conmon's -n does not
                return make_owner("podman", name=name, id=hint.id, containers=[name]), None
            return base, reason if base.name is None else None
        if hint.runtime in ("containerd", "cri-o") and hint.id:
            for pattern in self.bundles:
                path = pattern.format(id=hint.id)
                if os.path.exists(path):
                    owner, reason = self._state_file(path, lambda data: oci_owner(data, hint.runtime, hint.id))
                    if owner is not None and not owner.pod and hint.pod_uid:
                        owner = self._pod_from_logs(owner, hint.pod_uid)
                    return (owner or base), reason
        if hint.pod_uid:
            return self._pod_from_logs(base, hint.pod_uid), None
        return base, None

    def _state_file(self, path: str, parse: Callable[[Any], Any]) -> tuple[Any, str | None]:
        """Parse a state file once per version of it (its inode, size and mtime): (what ``parse``
        made of its JSON, or None; why not)."""
        try:
            st = os.stat(path)
        except OSError as exc:
            return None, f"cannot read {path}: {exc.strerror}"
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        owner: Any = None
        reason: str | None = None
        if st.st_size > MAX_STATE_BYTES:
            reason = f"{path} is larger than {MAX_STATE_BYTES} bytes"
        else:
            try:
                with open(path, "rb") as handle:
                    owner = parse(json.loads(handle.read()))
            except OSError as exc:
                reason = f"cannot read {path}: {exc.strerror}"
            except (ValueError, AttributeError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
                reason = f"malformed {path}: {str(exc)[:80]}"
        self._files[path] = (stamp, owner, reason)
        return owner, reason

    def _ask_docker(self, container_id: str) -> tuple[Owner | None, str]:
        assert self.docker_api is not None
        cached = self._api.get(container_id)
        if cached is not None:
            return cached, ""
        if self.clock() < self._api_quiet_until:
            return None, f"Docker API {self.docker_api} not asked (it failed recently)"
        try:
            data = docker_api_get(self.docker_api, f"/containers/{container_id}/json", self.api_timeout)
            owner = docker_owner(data, container_id)
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            self._api_quiet_until = self.clock() + API_BACKOFF
            what = "timed out" if isinstance(exc, TimeoutError) else str(exc)[:80]
            return None, f"Docker API {self.docker_api}: {what}"
        self._api[container_id] = owner
        return owner, ""

    def _pod_from_logs(self, owner: Owner, pod_uid: str) -> Owner:
        """Pod name, namespace and container names from the kubelet's /var/log/pods folders."""
        pods = self._pod_folders()
        found = pods.get(pod_uid)
        if found is None:
            return owner
        namespace, pod, containers = found
        return make_owner(
            owner.runtime,
            name=owner.name,
            id=owner.id,
            project=owner.project,
            pod=pod,
            pod_namespace=namespace,
            pod_uid=pod_uid,
            containers=containers,
        )

    def _pod_folders(self) -> dict[str, tuple[str, str, list[str]]]:
        try:
            mtime = os.stat(self.pod_logs).st_mtime
        except OSError:
            return {}
        if self._pod_dirs is not None and self._pod_dirs[0] == mtime:
            return self._pod_dirs[1]
        pods: dict[str, tuple[str, str, list[str]]] = {}
        try:
            for entry in os.scandir(self.pod_logs):
                parsed = parse_pod_log_dir(entry.name)
                if parsed is None:
                    continue
                try:
                    containers = sorted(e.name for e in os.scandir(entry.path) if e.is_dir())
                except OSError:
                    containers = []
                pods[parsed[2]] = (parsed[0], parsed[1], containers)
        except OSError:
            return {}
        self._pod_dirs = (mtime, pods)
        return pods


def resolver_from_settings(env: Mapping[str, str] | None = None) -> OwnerResolver:
    """An OwnerResolver configured by NSMAP_DOCKER_API / NSMAP_RUNTIME_API_TIMEOUT (agent/settings.py)."""
    from agent.settings import runtime_api_settings

    socket_path, timeout = runtime_api_settings(env)
    return OwnerResolver(docker_api=socket_path, api_timeout=timeout)
