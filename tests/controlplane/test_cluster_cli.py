"""`restoreflow cluster up|status|down` as a user runs them, and where the programs come from."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.stream import stream

from restoreflow.controlplane import BinariesError, find_binaries
from restoreflow.controlplane.binaries import COMPONENTS


def restoreflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "restoreflow", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)


def test_envtest_assets_are_used_and_the_rest_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = find_binaries()
    for name in ("kube-apiserver", "etcd"):
        (tmp_path / name).symlink_to(built[name].resolve())
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    found = find_binaries()
    assert found["kube-apiserver"] == tmp_path / "kube-apiserver"
    assert found.origin["etcd"] == "KUBEBUILDER_ASSETS"
    assert found.origin["kube-controller-manager"].startswith("built from k8s.io/kubernetes v1.37")


def test_envtest_assets_without_etcd_are_refused_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kube-apiserver").symlink_to(find_binaries()["kube-apiserver"].resolve())
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    with pytest.raises(BinariesError, match=r"has no etcd and kube-apiserver.*setup-envtest"):
        find_binaries()


def test_a_state_folder_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    up = restoreflow("cluster", "up", "--state", str(blocker / "state"))
    assert up.returncode == 1
    assert up.stderr.strip() == f"error: cannot write the state folder {blocker / 'state'}: Not a directory"


def test_the_built_program_reports_the_kubernetes_version() -> None:
    for name in COMPONENTS[1:]:
        done = subprocess.run([str(find_binaries()[name]), "--version"], capture_output=True, text=True)
        assert "v1.37.2" in done.stdout, done.stderr


def exec_in_a_pod(core: client.CoreV1Api, command: list[str]) -> str:
    """What `kubectl exec` prints: a pod scheduled onto the node, running, then the command in it."""
    pod = {"metadata": {"name": "shell"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    core.create_namespaced_pod("default", pod)
    deadline = time.monotonic() + 60
    while core.read_namespaced_pod("shell", "default").status.phase != "Running":
        assert time.monotonic() < deadline, "the pod never ran"
        time.sleep(0.2)
    return str(
        stream(
            core.connect_get_namespaced_pod_exec,
            "shell",
            "default",
            command=command,
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
        )
    )


def test_up_status_and_down_from_envtest_assets(tmp_path: Path) -> None:
    """A control plane from KUBEBUILDER_ASSETS, up in the background, used with the official client,
    then down: as the README shows it."""
    assets = tmp_path / "assets"
    assets.mkdir()
    for name in ("kube-apiserver", "etcd"):
        (assets / name).symlink_to(find_binaries()[name].resolve())
    env = {**os.environ, "KUBEBUILDER_ASSETS": str(assets)}
    state = tmp_path / "state"

    up = restoreflow("cluster", "up", "--state", str(state), "--velero-crds", "--exec", env=env)
    try:
        assert up.returncode == 0, up.stderr
        kubeconfig = state / "kubeconfig"
        assert f"kubeconfig: {kubeconfig}" in up.stdout
        status = restoreflow("cluster", "status", "--state", str(state))
        assert status.returncode == 0 and status.stdout.startswith("running: https://127.0.0.1:")
        assert "kube-scheduler" in status.stdout and "node-simulator" in status.stdout
        with config.new_client_from_config(config_file=str(kubeconfig)) as api:
            assert client.VersionApi(api).get_code().git_version == "v1.37.2"
            assert [n.metadata.name for n in client.CoreV1Api(api).list_node().items] == ["node-1"]
            crds = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
            assert "restores.velero.io" in {c.metadata.name for c in crds}
            assert exec_in_a_pod(client.CoreV1Api(api), ["echo", "hello"]) == "hello\n"
    finally:
        down = restoreflow("cluster", "down", "--state", str(state))
    assert down.returncode == 0 and down.stdout.strip() == "control plane stopped"
    after = restoreflow("cluster", "status", "--state", str(state))
    assert after.returncode == 1 and after.stdout.startswith("not running")
