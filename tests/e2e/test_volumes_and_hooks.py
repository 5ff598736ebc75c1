"""Pod volume restores and exec hooks on both targets: the node simulator plays Velero's node agent
and the kubelet on the real control plane, except exec, which needs a kubelet it does not serve."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.cluster.client import wait_until
from restoreflow.controlplane import running_control_plane
from restoreflow.controlplane.pytest_plugin import KubeTarget
from restoreflow.plan.model import Target
from restoreflow.restore import run_restore
from tests.engine.helpers import configmap, make_plan, namespace, pod, write_backup
from tests.volumes.helpers import app_pod, pv, pvb, pvc
from tests.volumes.helpers import make_plan as volume_plan


@pytest.mark.sandbox(velero_crds=True)
def test_pod_volume_restores_complete_and_the_pod_runs(kube_target: KubeTarget, tmp_path: Path) -> None:
    ns, name = kube_target.name("drill"), kube_target.name("fs")
    backup = BackupBuilder("nightly").add_all([namespace("shop"), pv(policy="Delete"), pvc(), app_pod()])
    backup.add_volume_info(
        {"pvName": "pv-1", "pvcName": "data", "pvcNamespace": "shop", "backupMethod": "PodVolumeBackup"}
    )
    backup.add_pod_volume_backup(pvb("web", "data", pvc_name="data"))
    backup.add_pod_volume_backup(pvb("web", "cache", snapshot="snap-2"))
    backup.write(str(tmp_path / "bsl"))
    plan = volume_plan(mapping={"shop": ns})
    spec = replace(
        plan.spec,
        source=replace(plan.spec.source, storage_location=str(tmp_path / "bsl"), backup_name="nightly"),
        target=Target(kubeconfig=kube_target.kubeconfig),
    )
    result = run_restore(replace(plan, spec=spec), restore_name=name)

    assert result.phase == "Completed", result.results
    assert result.status["status"]["podVolumeRestores"] == {"attempted": 2, "completed": 2, "failed": 0}
    restores = kube_target.cluster.list(
        "podvolumerestores.velero.io", "velero", f"velero.io/restore-name={name}"
    )
    assert sorted(r["spec"]["volume"] for r in restores) == ["cache", "data"]
    assert all(r["status"]["phase"] == "Completed" for r in restores)

    def running() -> bool:
        return ((kube_target.get("pods", "web", ns) or {}).get("status") or {}).get("phase") == "Running"

    assert wait_until(running, 60, 0.2)
    live = kube_target.get("pods", "web", ns)
    assert live["spec"]["initContainers"][0]["name"] == "restore-wait"


def test_a_post_restore_exec_hook_runs_and_its_output_is_logged(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    """On the real control plane the API server sends the exec to the node's kubelet port, where kwok
    runs the command; on the sandbox the sandbox does."""
    ns = kube_target.name("hooks")
    annotations = {"post.hook.restore.velero.io/command": '["echo", "restored"]'}
    hooked = pod("toolbox", ns, annotations=annotations)
    hooked["spec"].pop("nodeName")
    location, _ = write_backup(tmp_path, [namespace(ns), configmap("settings", ns), hooked])
    result = run_restore(make_plan(kube_target, location), restore_name="exec")

    assert result.phase == "Completed", result.results
    assert result.status["status"]["hookStatus"] == {"hooksAttempted": 1, "hooksFailed": 0}
    assert "stdout: restored" in BackupStorage.open(location).restores.logs("exec")


def test_without_an_exec_server_a_hook_fails_with_the_servers_reason(tmp_path: Path) -> None:
    """`cluster up` without --exec: no kubelet answers, the hook fails, named, and the restore goes on
    (PartiallyFailed), as Velero reports a hook whose exec the cluster refuses."""
    ns = "hooks"
    hooked = pod("toolbox", ns, annotations={"post.hook.restore.velero.io/command": '["echo", "restored"]'})
    hooked["spec"].pop("nodeName")
    location, _ = write_backup(tmp_path, [namespace(ns), hooked])
    with running_control_plane(tmp_path / "plane") as state:
        result = run_restore(make_plan(state, location), restore_name="exec")

    assert result.phase == "PartiallyFailed", result.results
    [error] = result.results["errors"]["namespaces"][ns]
    assert error.startswith("hook <from-annotation> in container app failed to execute, err: ")
    assert f"127.0.0.1:{state.ports['kubelet']}" in error and "connection refused" in error


def test_an_init_container_hook_from_annotations_runs_first(kube_target: KubeTarget, tmp_path: Path) -> None:
    """Velero's restore hooks page: the init.hook.restore.velero.io annotations add an init container
    that runs before the pod's own (and the pod comes up on the real control plane with it)."""
    ns = kube_target.name("init")
    annotations = {
        "init.hook.restore.velero.io/container-image": "busybox:1.36",
        "init.hook.restore.velero.io/container-name": "restore-hook",
        "init.hook.restore.velero.io/command": '["/bin/ash", "-c", "date"]',
    }
    hooked = pod("app", ns, annotations=annotations)
    hooked["spec"].pop("nodeName")
    location, _ = write_backup(tmp_path, [namespace(ns), hooked])
    result = run_restore(make_plan(kube_target, location), restore_name="init-hook")

    assert result.phase == "Completed", result.results
    first = kube_target.get("pods", "app", ns)["spec"]["initContainers"][0]
    assert (first["name"], first["image"]) == ("restore-hook", "busybox:1.36")
    assert first["command"] == ["/bin/ash", "-c", "date"]

    def running() -> bool:
        return ((kube_target.get("pods", "app", ns) or {}).get("status") or {}).get("phase") == "Running"

    assert wait_until(running, 60, 0.2)
