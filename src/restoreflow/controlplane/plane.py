"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and restoreflow's node simulator, each its own process under one state folder.

The processes run in their own session, so they outlive the command that started them
(`restoreflow cluster up`) until `cluster down` or `ControlPlane.stop()`. `state.json` in the folder
says what runs where; any process can find, check and stop a control plane from it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from restoreflow.controlplane.binaries import KUBERNETES_VERSION, Binaries, find_binaries, kwok_program
from restoreflow.controlplane.pki import Pki, issue_client, make_pki
from restoreflow.processes import alive, log_tail, stop_group
from restoreflow.sandbox.admission import SERVICE_RANGE

SERVICE_CIDR = str(SERVICE_RANGE)  # the sandbox's (and kubeadm's) service range
NODE_NAME = "node-1"  # the sandbox's node name, so that backups and tests name the same node
START_TIMEOUT = 120.0  # seconds for every component to answer; a cold start on 2 cores takes ~10
# Controllers that need kubelets are left out: without heartbeats the node lifecycle controller would
# taint the simulated node and evict every pod.
CONTROLLERS = "*,-node-lifecycle-controller,-node-ipam-controller"


KWOK_MANAGED = "restoreflow.dev/kwok-managed"


class ControlPlaneError(Exception):
    """The control plane could not start or be reached; the message names the component and its log."""


@dataclass
class PlaneState:
    """What `state.json` records: the processes, the ports and the kubeconfig of a running plane."""

    kubeconfig: str
    server: str
    version: str
    pids: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    velero_crds: bool = False
    exec_hooks: bool = False


def default_state_dir() -> Path:
    """`$RESTOREFLOW_HOME/cluster`, `~/.restoreflow/cluster` by default."""
    home = os.environ.get("RESTOREFLOW_HOME") or os.path.expanduser("~/.restoreflow")
    return Path(home) / "cluster"


class ControlPlane:
    """One control plane under `state_dir`: `start()`, `stop()`, `status()`; a context manager too."""

    def __init__(self, state_dir: str | os.PathLike[str] | None = None, kubeconfig: str | None = None):
        self.state_dir = Path(state_dir or default_state_dir()).expanduser().resolve()
        self.kubeconfig = (
            Path(kubeconfig).expanduser().resolve() if kubeconfig else self.state_dir / "kubeconfig"
        )
        self.logs = self.state_dir / "logs"

    # -- inspection ------------------------------------------------------------------------------
    def state(self) -> PlaneState | None:
        """The recorded state, or None when no plane was started here."""
        try:
            return PlaneState(**json.loads((self.state_dir / "state.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def running(self) -> dict[str, bool]:
        """Component -> whether its process is alive (empty when none was started)."""
        state = self.state()
        return {name: alive(pid) for name, pid in (state.pids if state else {}).items()}

    def ready(self) -> bool:
        """True when the API server answers /readyz with 200."""
        state = self.state()
        return state is not None and _readyz(state.server, Pki(self.state_dir / "pki")) == 200

    def user_kubeconfig(self, user: str, path: Path) -> Path:
        """A kubeconfig at path for `user` on the running plane, with no RBAC bindings of its own."""
        state = self.state()
        if state is None:
            raise ControlPlaneError(f"no control plane was started in {self.state_dir}")
        pki = Pki(self.state_dir / "pki")
        issue_client(pki, user, user)
        write_kubeconfig(path, state.server, pki, user)
        return path

    # -- life cycle ------------------------------------------------------------------------------
    def start(
        self,
        *,
        velero_crds: bool = False,
        exec_hooks: bool = False,
        binaries: Binaries | None = None,
        say: Callable[[str], None] | None = None,
    ) -> PlaneState:
        """Start every component (or return the state of the one already running here).

        exec_hooks: answer exec (restore hooks, `kubectl exec`) for the simulated node through kwok,
        which runs each command on this machine, in the state folder's `exec/`."""
        say = say or (lambda text: None)
        existing = self.state()
        if existing and all(self.running().values()) and self.ready() and existing.exec_hooks >= exec_hooks:
            if velero_crds and not existing.velero_crds:
                self._install_extras(existing, velero_crds=True)
                existing.velero_crds = True
                self._save(existing)
            return existing
        if existing:
            self.stop()
        binaries = binaries or find_binaries(say=say)
        try:
            self.logs.mkdir(parents=True, exist_ok=True)
            pki = make_pki(self.state_dir / "pki")
        except OSError as error:
            raise ControlPlaneError(
                f"cannot write the state folder {self.state_dir}: {error.strerror}"
            ) from None
        kwok = kwok_program(say=say) if exec_hooks else None
        ports = {name: free_port() for name in ("etcd", "etcd-peer", "kube-apiserver", "kubelet")}
        server = f"https://127.0.0.1:{ports['kube-apiserver']}"
        state = PlaneState(
            str(self.kubeconfig),
            server,
            KUBERNETES_VERSION,
            ports=ports,
            velero_crds=velero_crds,
            exec_hooks=exec_hooks,
        )
        try:
            self._spawn(state, "etcd", [str(binaries["etcd"]), *self._etcd_flags(ports)])
            _wait_for(lambda: _tcp_open(ports["etcd"]), "etcd", self.logs)
            self._spawn(
                state, "kube-apiserver", [str(binaries["kube-apiserver"]), *self._apiserver_flags(pki, ports)]
            )
            _wait_for(lambda: _readyz(server, pki) == 200, "kube-apiserver", self.logs, state.pids)
            for identity in ("admin", "controller-manager", "scheduler"):
                write_kubeconfig(self._kubeconfig_path(identity), server, pki, identity)
            self._spawn(
                state,
                "kube-controller-manager",
                [str(binaries["kube-controller-manager"]), *self._controller_flags(pki)],
            )
            self._spawn(state, "kube-scheduler", [str(binaries["kube-scheduler"]), *self._scheduler_flags()])
            simulator = [
                sys.executable,
                "-m",
                "restoreflow.controlplane.nodes",
                "--kubeconfig",
                str(self.kubeconfig),
            ]
            self._spawn(state, "node-simulator", [*simulator, "--kubelet-port", str(ports["kubelet"])])
            if kwok is not None:
                self._spawn(state, "kwok", [str(kwok), *self._kwok_flags(ports["kubelet"])])
            self._install_extras(state, velero_crds=velero_crds)
        except BaseException:
            self.stop()
            raise
        return state

    def stop(self) -> None:
        """Stop every process of this plane (newest first) and forget them; the state folder stays."""
        state = self.state()
        if state is None:
            return
        for pid in reversed(list(state.pids.values())):
            stop_group(pid, grace=10.0)
        (self.state_dir / "state.json").unlink(missing_ok=True)

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------------------
    def _spawn(self, state: PlaneState, name: str, command: list[str]) -> None:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                start_new_session=True,
            )
        state.pids[name] = process.pid
        self._save(state)

    def _save(self, state: PlaneState) -> None:
        target = self.state_dir / "state.json"
        partial = target.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(state), indent=2))
        partial.replace(target)

    def _kubeconfig_path(self, identity: str) -> Path:
        return self.kubeconfig if identity == "admin" else self.state_dir / f"{identity}.kubeconfig"

    def _etcd_flags(self, ports: dict[str, int]) -> list[str]:
        return [
            f"--data-dir={self.state_dir / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{ports['etcd']}",
            f"--listen-peer-urls=http://127.0.0.1:{ports['etcd-peer']}",
            "--unsafe-no-fsync=true",
        ]

    def _apiserver_flags(self, pki: Pki, ports: dict[str, int]) -> list[str]:
        port = ports["kube-apiserver"]
        return [
            f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            "--endpoint-reconciler-type=none",  # it refuses a loopback address; nothing needs the endpoints
            f"--secure-port={port}",
            f"--cert-dir={self.state_dir / 'apiserver'}",
            f"--tls-cert-file={pki.server_cert}",
            f"--tls-private-key-file={pki.server_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--authorization-mode=Node,RBAC",
            "--kubelet-preferred-address-types=InternalIP",  # the node's 127.0.0.1, never a DNS lookup
            "--allow-privileged=true",
            "--profiling=false",
        ]

    def _controller_flags(self, pki: Pki) -> list[str]:
        config = self._kubeconfig_path("controller-manager")
        return [
            f"--kubeconfig={config}",
            f"--authentication-kubeconfig={config}",
            f"--authorization-kubeconfig={config}",
            "--secure-port=0",
            f"--service-account-private-key-file={pki.sa_key}",
            f"--root-ca-file={pki.ca_cert}",
            f"--cluster-signing-cert-file={pki.ca_cert}",
            f"--cluster-signing-key-file={pki.ca_key}",
            "--use-service-account-credentials=true",
            f"--controllers={CONTROLLERS}",
            "--leader-elect=false",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--profiling=false",
        ]

    def _scheduler_flags(self) -> list[str]:
        config = self._kubeconfig_path("scheduler")
        return [
            f"--kubeconfig={config}",
            f"--authentication-kubeconfig={config}",
            f"--authorization-kubeconfig={config}",
            "--secure-port=0",
            "--leader-elect=false",
            "--profiling=false",
        ]

    def _kwok_flags(self, port: int) -> list[str]:
        """kwok only as the node's exec server: it manages no node (none has the annotation), and its
        one ClusterExec runs every command locally."""
        workdir = self.state_dir / "exec"
        workdir.mkdir(exist_ok=True)
        config = self.state_dir / "kwok.yaml"
        config.write_text(_kwok_config(workdir))
        return [
            f"--kubeconfig={self.kubeconfig}",
            f"--config={config}",
            f"--manage-nodes-with-annotation-selector={KWOK_MANAGED}=true",
            f"--server-address=127.0.0.1:{port}",
        ]

    def _install_extras(self, state: PlaneState, *, velero_crds: bool) -> None:
        """What every restore target has (the node, the default StorageClass) and, when asked, Velero's
        CRDs and namespace; waits for the default ServiceAccount that pods need."""
        from restoreflow.controlplane.setup import SetupError, prepare_cluster

        try:
            prepare_cluster(self.kubeconfig, velero_crds=velero_crds, logs=self.logs)
        except SetupError:
            dead = [name for name, pid in state.pids.items() if not alive(pid)]
            if not dead:
                raise
            tail = log_tail(self.logs / f"{dead[0]}.log")
            raise ControlPlaneError(
                f"{', '.join(dead)} exited; its log ({self.logs}) ends:\n{tail}"
            ) from None


@contextlib.contextmanager
def running_control_plane(
    state_dir: str | os.PathLike[str] | None = None, *, velero_crds: bool = False
) -> Iterator[PlaneState]:
    """A control plane for the duration of the block (started, then stopped)."""
    plane = ControlPlane(state_dir)
    state = plane.start(velero_crds=velero_crds)
    try:
        yield state
    finally:
        plane.stop()


def _kwok_config(workdir: Path) -> str:
    """kwok's --config (YAML documents; JSON is YAML): one ClusterExec running commands locally, and
    the one Stage kwok insists on, for nodes it does not manage."""
    stage = {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": "unused"},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Node"},
            "selector": {"matchAnnotations": {KWOK_MANAGED: "true"}},
            "next": {},
        },
    }
    execs = {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "ClusterExec",
        "metadata": {"name": "local"},
        "spec": {"execs": [{"local": {"workDir": str(workdir)}}]},
    }
    return "\n---\n".join(json.dumps(document) for document in (stage, execs)) + "\n"


def write_kubeconfig(path: Path, server: str, pki: Pki, identity: str) -> None:
    """A self-contained kubeconfig (certificates inline) for one identity; context "restoreflow"."""
    import base64

    def inline(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "restoreflow",
                "cluster": {"server": server, "certificate-authority-data": inline(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": identity,
                "user": {
                    "client-certificate-data": inline(pki.client_cert(identity)),
                    "client-key-data": inline(pki.client_key(identity)),
                },
            }
        ],
        "contexts": [{"name": "restoreflow", "context": {"cluster": "restoreflow", "user": identity}}],
        "current-context": "restoreflow",
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(config, indent=2))
    partial.chmod(0o600)
    partial.replace(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tcp_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _readyz(server: str, pki: Pki) -> int:
    """The HTTP status of GET /readyz as the admin (0 when nothing answers)."""
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.client_cert("admin")), str(pki.client_key("admin")))
    try:
        with urllib.request.urlopen(f"{server}/readyz", context=context, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (OSError, ssl.SSLError):
        return 0


def _wait_for(ready: Callable[[], bool], name: str, logs: Path, pids: dict[str, int] | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        dead = [n for n, pid in (pids or {}).items() if not alive(pid)]
        if dead or time.monotonic() > deadline:
            why = f"{', '.join(dead)} exited" if dead else f"no answer after {START_TIMEOUT:.0f} s"
            tail = log_tail(logs / f"{(dead or [name])[0]}.log")
            raise ControlPlaneError(f"{name} did not start ({why}); its log ({logs}) ends:\n{tail}")
        time.sleep(0.1)


__all__ = [
    "ControlPlane",
    "ControlPlaneError",
    "PlaneState",
    "default_state_dir",
    "running_control_plane",
]
