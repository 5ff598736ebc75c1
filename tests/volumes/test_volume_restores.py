"""Every way a PV comes back, and file-system backup restores, end to end against the sandbox."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.plan.model import Target, Timeouts
from restoreflow.restore import absorb_group, fetch, finalize, prepare, restore_group, validate
from restoreflow.sandbox.controllers.volume_restores import PVR_TOTAL_BYTES

from .e2e import describe, namespace, restore, result_volume_info, with_snapshots, with_velero
from .helpers import app_pod, make_plan, pv, pvb, pvc
from .test_snapshotters import install_plugin

LOCATION = {
    "apiVersion": "velero.io/v1",
    "kind": "VolumeSnapshotLocation",
    "metadata": {"name": "default", "namespace": "velero"},
    "spec": {"provider": "example.com/disks", "config": {"prefix": "disk-"}},
}


@pytest.fixture
def disks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test snapshotter plugin, discovered through its entry point."""
    root = tmp_path / "plugins"
    install_plugin(root, {"example.com/disks": "tests.volumes.fake_disks:FakeDiskSnapshotter"})
    monkeypatch.syspath_prepend(str(root))


def native_backup(snapshot: str = "snap-1") -> BackupBuilder:
    backup = BackupBuilder("nightly")
    backup.add_all([namespace("shop"), pv(policy="Delete"), pvc()])
    backup.add_volume_info(
        {"pvName": "pv-1", "pvcName": "data", "pvcNamespace": "shop", "backupMethod": "NativeSnapshot"}
    )
    backup.add_volume_snapshot(
        {
            "spec": {
                "backupName": "nightly",
                "location": "default",
                "persistentVolumeName": "pv-1",
                "providerVolumeID": "v-0",
                "volumeType": "gp3",
                "volumeAZ": "eu-1a",
            },
            "status": {"providerSnapshotID": snapshot, "phase": "Completed"},
        }
    )
    return backup


def existing_pv(phase: str = "Bound") -> dict[str, Any]:
    found = pv()
    found["metadata"] = {"name": "pv-1"}
    found["spec"]["csi"] = {"driver": "disks.example.com", "volumeHandle": "in-use"}
    found["spec"]["claimRef"] = {"namespace": "shop", "name": "data"}
    found["status"] = {"phase": phase}
    return found


def test_native_snapshot_creates_the_volume_through_the_plugin(
    sandbox: Any, tmp_path: Path, disks: None
) -> None:
    with_velero(sandbox, LOCATION)
    result = restore(sandbox, tmp_path, native_backup())
    assert result.phase == "Completed", result.results
    restored = sandbox.get("persistentvolumes", "pv-1")
    assert restored["spec"]["csi"]["volumeHandle"] == "disk-snap-1"
    claim = sandbox.get("persistentvolumeclaims", "data", "shop")
    assert claim["spec"]["volumeName"] == "pv-1"
    # the backup's claim uid is gone: the PV binds (or is bound by the controller) to the new claim
    assert restored["spec"]["claimRef"].get("uid") in (None, claim["metadata"]["uid"])
    assert "v1/PersistentVolume" in result.resource_list


def test_existing_pv_with_remapped_claim_is_restored_as_a_clone(
    sandbox: Any, tmp_path: Path, disks: None
) -> None:
    with_velero(sandbox, LOCATION)
    sandbox.load([namespace("shop"), existing_pv()])
    result = restore(sandbox, tmp_path, native_backup(), make_plan(mapping={"shop": "shop-drill"}))
    assert result.phase == "Completed", result.results
    clones = [
        p for p in sandbox.objects("persistentvolumes") if p["metadata"]["name"].startswith("velero-clone-")
    ]
    [clone] = clones
    assert clone["metadata"]["annotations"]["velero.io/original-pv-name"] == "pv-1"
    assert clone["spec"]["claimRef"]["namespace"] == "shop-drill"
    assert clone["spec"]["csi"]["volumeHandle"] == "disk-snap-1"
    assert sandbox.get("persistentvolumes", "pv-1")["spec"]["csi"]["volumeHandle"] == "in-use"
    claim = sandbox.get("persistentvolumeclaims", "data", "shop-drill")
    assert claim["spec"]["volumeName"] == clone["metadata"]["name"]
    [info] = BackupStorage.open(str(tmp_path / "bsl")).restores.volume_info("r1")
    assert info["pvName"] == clone["metadata"]["name"] and info["restoreMethod"] == "NativeSnapshot"
    assert info["nativeSnapshotInfo"]["snapshotHandle"] == "snap-1"


def test_existing_bound_pv_is_left_alone(sandbox: Any, tmp_path: Path, disks: None) -> None:
    with_velero(sandbox, LOCATION)
    sandbox.load(
        [namespace("shop"), existing_pv(), {**pvc(), "metadata": {"name": "data", "namespace": "shop"}}]
    )
    result = restore(sandbox, tmp_path, native_backup())
    assert sandbox.get("persistentvolumes", "pv-1")["spec"]["csi"]["volumeHandle"] == "in-use"
    assert not [p for p in sandbox.objects("persistentvolumes") if p["metadata"]["name"] != "pv-1"]
    assert not any("disk-snap-1" in str(p) for p in sandbox.objects("persistentvolumes"))
    assert result.phase == "Completed"
    assert result.results["warnings"]["cluster"] == [
        'could not restore, PersistentVolume "pv-1" already exists. '
        "Warning: the in-cluster version is different than the backed-up version"
    ]
    assert result.resource_list["v1/PersistentVolume"] == ["pv-1(failed)"]


def test_released_pv_is_waited_for_up_to_the_terminating_timeout(
    sandbox: Any, tmp_path: Path, disks: None
) -> None:
    with_velero(sandbox, LOCATION)
    sandbox.load([existing_pv(phase="Released")])
    plan = make_plan(timeouts=Timeouts(terminating_resource=0.5))
    result = restore(sandbox, tmp_path, native_backup(), plan)
    assert result.phase == "PartiallyFailed"
    [error] = result.results["errors"]["cluster"]
    assert error == "error waiting on in-cluster persistentvolume pv-1: context deadline exceeded"


def test_plugin_failure_fails_the_pv(sandbox: Any, tmp_path: Path, disks: None) -> None:
    with_velero(sandbox, LOCATION)
    result = restore(sandbox, tmp_path, native_backup(snapshot="snap-broken"))
    assert result.phase == "PartiallyFailed"
    [error] = result.results["errors"]["cluster"]
    assert error == "error executing PVAction for persistentvolumes/pv-1: the snapshot is gone"
    assert sandbox.get("persistentvolumes", "pv-1") is None


def skipped_backup(policy: str) -> BackupBuilder:
    backup = BackupBuilder("nightly")
    backup.add_all([namespace("shop"), pv(policy=policy), pvc()])
    backup.add_volume_info(
        {
            "pvName": "pv-1",
            "pvcName": "data",
            "pvcNamespace": "shop",
            "skipped": True,
            "skippedReason": "no method",
        }
    )
    return backup


def test_skipped_pv_with_retain_policy_is_restored_as_is(sandbox: Any, tmp_path: Path) -> None:
    result = restore(sandbox, tmp_path, skipped_backup("Retain"), make_plan(mapping={"shop": "shop-drill"}))
    assert result.phase == "Completed", result.results
    restored = sandbox.get("persistentvolumes", "pv-1")
    assert restored["spec"]["claimRef"]["namespace"] == "shop-drill"
    assert restored["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "csi.example.com"
    assert sandbox.get("persistentvolumeclaims", "data", "shop-drill")["spec"]["volumeName"] == "pv-1"


def test_skipped_pv_with_delete_policy_is_reprovisioned(sandbox: Any, tmp_path: Path) -> None:
    result = restore(sandbox, tmp_path, skipped_backup("Delete"))
    assert result.phase == "Completed", result.results
    assert sandbox.get("persistentvolumes", "pv-1") is None
    assert "persistentvolumes/pv-1" not in str(result.results)
    assert any(entry.endswith("pv-1(skipped)") for entry in result.resource_list["v1/PersistentVolume"])
    assert sandbox.get("persistentvolumeclaims", "data", "shop")["spec"].get("volumeName") != "pv-1"


def csi_backup() -> BackupBuilder:
    backup = BackupBuilder("nightly")
    claim = pvc(annotations={"velero.io/volume-snapshot-name": "vs-1"})
    snapshot = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {"name": "vs-1", "namespace": "shop"},
        "spec": {"source": {"persistentVolumeClaimName": "data"}, "volumeSnapshotClassName": "csi-class"},
        "status": {"boundVolumeSnapshotContentName": "snapcontent-1", "readyToUse": True},
    }
    content = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotContent",
        "metadata": {"name": "snapcontent-1"},
        "spec": {
            "driver": "disks.example.com",
            "deletionPolicy": "Delete",
            "source": {"volumeHandle": "v-0"},
            "volumeSnapshotRef": {
                "name": "vs-1",
                "namespace": "shop",
                "uid": "vs-uid",
                "resourceVersion": "5",
            },
        },
        "status": {"snapshotHandle": "handle-1", "readyToUse": True},
    }
    backup.add_all([namespace("shop"), pv(policy="Delete"), claim, snapshot, content])
    backup.add_volume_info(
        {"pvName": "pv-1", "pvcName": "data", "pvcNamespace": "shop", "backupMethod": "CSISnapshot"}
    )
    backup.add_csi_volume_snapshot(snapshot)
    return backup


def test_csi_snapshot_restores_the_claim_from_the_renamed_volume_snapshot(
    sandbox: Any, tmp_path: Path
) -> None:
    with_snapshots(sandbox)
    result = restore(sandbox, tmp_path, csi_backup(), make_plan(mapping={"shop": "shop-drill"}))
    assert result.phase == "Completed", result.results
    uid = result.status["metadata"]["uid"]
    name = hashlib.sha256(f"{uid}/vs-1".encode()).hexdigest()
    assert sandbox.get("persistentvolumes", "pv-1") is None
    claim = sandbox.get("persistentvolumeclaims", "data", "shop-drill")
    assert claim["spec"]["dataSource"] == {
        "apiGroup": "snapshot.storage.k8s.io",
        "kind": "VolumeSnapshot",
        "name": name,
    }
    snapshot = sandbox.get("volumesnapshots.snapshot.storage.k8s.io", name, "shop-drill")
    assert snapshot["spec"]["source"] == {"volumeSnapshotContentName": name}
    content = sandbox.get("volumesnapshotcontents.snapshot.storage.k8s.io", name)
    assert content["spec"]["source"] == {"snapshotHandle": "handle-1"}
    assert content["spec"]["deletionPolicy"] == "Retain"
    assert content["spec"]["volumeSnapshotRef"] == {"name": name, "namespace": "shop-drill"}
    [info] = [v for v in result_volume_info(tmp_path) if v["restoreMethod"] == "CSISnapshot"]
    assert info == {
        "pvcName": "data",
        "pvcNamespace": "shop-drill",  # no pvName: the claim is not bound yet
        "restoreMethod": "CSISnapshot",
        "snapshotDataMoved": False,
        "csiSnapshotInfo": {"snapshotHandle": "", "size": 0, "driver": "", "vscName": name},
    }
    assert "CSI Snapshot Restores:\n  shop-drill/data:\n    Snapshot: specify --details" in describe(tmp_path)
    assert f"    Snapshot:\n      Snapshot Content Name: {name}\n" in describe(tmp_path, "--details")


def test_restore_pvs_false_skips_csi_objects_and_unbinds_the_claim(sandbox: Any, tmp_path: Path) -> None:
    with_snapshots(sandbox)
    result = restore(sandbox, tmp_path, csi_backup(), make_plan(restore_pvs=False))
    assert result.phase == "Completed", result.results
    claim = sandbox.get("persistentvolumeclaims", "data", "shop")
    assert "dataSource" not in claim["spec"] and claim["spec"].get("volumeName") != "pv-1"
    assert sandbox.objects("volumesnapshots.snapshot.storage.k8s.io") == []
    assert sandbox.objects("volumesnapshotcontents.snapshot.storage.k8s.io") == []


def fs_backup(pod_annotations: dict[str, str] | None = None) -> BackupBuilder:
    backup = BackupBuilder("nightly")
    pod = app_pod(annotations=pod_annotations or {})
    backup.add_all([namespace("shop"), pv(policy="Delete"), pvc(), pod])
    backup.add_volume_info(
        {"pvName": "pv-1", "pvcName": "data", "pvcNamespace": "shop", "backupMethod": "PodVolumeBackup"}
    )
    backup.add_pod_volume_backup(pvb("web", "data", pvc_name="data"))
    backup.add_pod_volume_backup(pvb("web", "cache", snapshot="snap-2"))
    return backup


def pod_volume_restores(sandbox: Any) -> list[dict[str, Any]]:
    return sandbox.objects("podvolumerestores.velero.io", "velero")


def test_pod_volume_restores_complete_and_the_pod_runs(sandbox: Any, tmp_path: Path) -> None:
    with_velero(sandbox)
    seen: list[tuple[int, int]] = []
    result = restore(
        sandbox,
        tmp_path,
        fs_backup(),
        make_plan(mapping={"shop": "shop-drill"}),
        on_progress=lambda p: seen.append((p.volumes_done, p.volumes_total)),
    )
    assert result.phase == "Completed", result.results
    restores = pod_volume_restores(sandbox)
    assert sorted(r["spec"]["volume"] for r in restores) == ["cache", "data"]
    assert all(r["status"]["phase"] == "Completed" for r in restores)
    assert {r["spec"]["sourceNamespace"] for r in restores} == {"shop"}
    pod = sandbox.get("pods", "web", "shop-drill")
    assert pod["spec"]["initContainers"][0]["name"] == "restore-wait"
    assert {r["metadata"]["labels"]["velero.io/pod-uid"] for r in restores} == {pod["metadata"]["uid"]}
    assert result.status["status"]["podVolumeRestores"] == {"attempted": 2, "completed": 2, "failed": 0}
    assert sandbox.get("persistentvolumes", "pv-1") is None
    assert (0, 2) in seen and (2, 2) in seen
    logs = BackupStorage.open(str(tmp_path / "bsl")).restores.logs("r1")
    assert "pod volume restores: 2 of 2 done (0 failed)" in logs


def test_failed_pod_volume_restore_is_a_velero_error(sandbox: Any, tmp_path: Path) -> None:
    """Velero reports pod volume restore errors at the Velero level, not under the pod's namespace."""
    with_velero(sandbox)
    backup = fs_backup({"sandbox.restoreflow.dev/pod-volume-restore": "fail"})
    result = restore(sandbox, tmp_path, backup)
    assert result.phase == "PartiallyFailed"
    assert "namespaces" not in result.results["errors"]
    errors = result.results["errors"]["velero"]
    assert len(errors) == 2
    assert all(e.startswith("pod shop/web volume ") and ": pod volume restore failed: " in e for e in errors)
    assert result.status["status"]["podVolumeRestores"] == {"attempted": 2, "completed": 0, "failed": 2}


def test_hanging_pod_volume_restore_times_out(sandbox: Any, tmp_path: Path) -> None:
    with_velero(sandbox)
    backup = fs_backup({"sandbox.restoreflow.dev/pod-volume-restore": "hang"})
    seen: list[tuple[int, int]] = []
    plan = make_plan(timeouts=Timeouts(fs_backup_restore=1.0))
    result = restore(sandbox, tmp_path, backup, plan, on_progress=lambda p: seen.append(p.volume_bytes))
    assert result.phase == "PartiallyFailed"
    assert seen[-1] == (PVR_TOTAL_BYTES, 2 * PVR_TOTAL_BYTES)  # each half done, as its node agent said
    assert sorted(result.results["errors"]["velero"]) == [
        "pod shop/web volume cache: timed out waiting for all PodVolumeRestores to complete",
        "pod shop/web volume data: timed out waiting for all PodVolumeRestores to complete",
    ]


def test_pod_volumes_are_not_restored_when_volumes_are_filtered_out(sandbox: Any, tmp_path: Path) -> None:
    with_velero(sandbox)
    result = restore(sandbox, tmp_path, fs_backup(), make_plan(excluded_resources=("persistentvolumes",)))
    assert pod_volume_restores(sandbox) == []
    assert result.status["status"]["podVolumeRestores"]["attempted"] == 0


def test_a_resumed_restore_still_records_the_csi_claims_an_earlier_attempt_restored(
    sandbox: Any, tmp_path: Path
) -> None:
    """The claims group is taken from the first attempt of the flow run: its CSI volume info is too."""
    with_snapshots(sandbox)
    backup = csi_backup()
    backup.write(str(tmp_path / "bsl"))
    plan = make_plan(mapping={"shop": "shop-drill"})
    spec = replace(
        plan.spec,
        source=replace(plan.spec.source, storage_location=str(tmp_path / "bsl"), backup_name=backup.name),
        target=Target(kubeconfig=str(sandbox.kubeconfig)),
    )
    plan = replace(plan, spec=spec)

    def attempt() -> tuple[Any, list[Any]]:
        ctx = validate(plan, restore_name="r1", flow_run_id="run-1")
        fetch(ctx)
        return ctx, prepare(ctx)

    first, groups = attempt()
    kept = {g.resource: json.loads(json.dumps(restore_group(first, g).to_dict())) for g in groups}
    finalize(first, "the worker was lost")
    second, groups = attempt()
    for group in groups:
        absorb_group(second, group, kept[group.resource])
    result = finalize(second)

    assert result.phase == "Completed", result.results
    [info] = [v for v in result_volume_info(tmp_path) if v["restoreMethod"] == "CSISnapshot"]
    assert (info["pvcNamespace"], info["pvcName"]) == ("shop-drill", "data")
