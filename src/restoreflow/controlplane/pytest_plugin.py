"""pytest fixtures for the real control plane, envtest-style: one per test run, shared by xdist workers.

- `control_plane` (session): a running plane (`PlaneState`: kubeconfig, server), with Velero's CRDs and
  exec through kwok (the tests' hook commands run on this machine). The first worker that
  needs it starts it under a lock; the others reuse it; the run's controller process stops it at the
  end. Tests are isolated by their own namespaces and names, not by restarts.
- `user_kubeconfig` (function): `user_kubeconfig("alice")` makes a kubeconfig of that plane for a new
  user that may do nothing until a test grants it a Role (authorization tests).
- `kube_target` (function, parametrized `sandbox` / `real`): one restore target of either kind with
  the same small API (`KubeTarget`), so a test runs against both the sandbox and kube-apiserver.
  `@pytest.mark.sandbox_only("why")` keeps a test on the sandbox (fault injection, delays, exec).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from restoreflow.controlplane.plane import ControlPlane, PlaneState

STATE_ENV = "RESTOREFLOW_TEST_CONTROL_PLANE"
BACKENDS = ("sandbox", "real")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_only(reason): runs on the sandbox only, for the reason given")
    if STATE_ENV not in os.environ:  # the controller (or a run without xdist) picks the shared folder
        os.environ[STATE_ENV] = tempfile.mkdtemp(prefix="restoreflow-test-plane-")
        config.stash[_OWNER] = True


_OWNER = pytest.StashKey[bool]()


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OWNER, False):
        ControlPlane(Path(os.environ[STATE_ENV]) / "plane").stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kube_target" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("sandbox_only")
        backends = ["sandbox"] if marker else list(BACKENDS)
        metafunc.parametrize("kube_backend", backends, scope="function")


@pytest.fixture(scope="session")
def control_plane() -> Iterator[PlaneState]:
    shared = Path(os.environ[STATE_ENV])
    plane = ControlPlane(shared / "plane")
    with open(shared / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = plane.start(velero_crds=True, exec_hooks=True)
    yield state


@pytest.fixture
def user_kubeconfig(control_plane: PlaneState, tmp_path: Path) -> Callable[[str], Path]:
    """`user_kubeconfig(name)`: a kubeconfig of the shared plane for a new user with no RBAC bindings."""
    plane = ControlPlane(Path(os.environ[STATE_ENV]) / "plane")
    return lambda user: plane.user_kubeconfig(user, tmp_path / f"{user}.kubeconfig")


@dataclass
class KubeTarget:
    """A restore target under test: its kubeconfig, a reader, and names unique to the test."""

    backend: str
    kubeconfig: str
    sandbox: Any = None  # the Sandbox handle on the sandbox backend (requests log, faults)
    _cluster: Any = field(default=None, repr=False)

    @property
    def real(self) -> bool:
        return self.backend == "real"

    def name(self, base: str) -> str:
        """A name no other test uses (namespaces and cluster-scoped objects on a shared server)."""
        return f"{base}-{uuid.uuid4().hex[:6]}"

    @property
    def cluster(self) -> Any:
        """restoreflow's own client (plain dicts) for reading what a restore wrote."""
        if self._cluster is None:
            from restoreflow.cluster.client import Cluster
            from restoreflow.plan.model import Target

            self._cluster = Cluster.for_target(Target(kubeconfig=self.kubeconfig))
        return self._cluster

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.cluster.get(resource, name, namespace)

    def api_client(self) -> Any:
        """A kubernetes.client.ApiClient from the official package, for this target."""
        from kubernetes import config

        return config.new_client_from_config(config_file=self.kubeconfig)

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.close()


@pytest.fixture
def kube_target(kube_backend: str, request: pytest.FixtureRequest) -> Iterator[KubeTarget]:
    if kube_backend == "real":
        state: PlaneState = request.getfixturevalue("control_plane")
        target = KubeTarget("real", state.kubeconfig)
    else:
        sandbox = request.getfixturevalue("sandbox")
        target = KubeTarget("sandbox", str(sandbox.kubeconfig), sandbox=sandbox)
    try:
        yield target
    finally:
        target.close()
