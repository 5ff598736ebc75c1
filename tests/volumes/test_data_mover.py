"""Volumes whose CSI snapshot data Velero's data mover moved (`snapshotMoveData`), restored end to end:
the DataUpload becomes a DataUploadResult ConfigMap, the claim's action creates a DataDownload that
the sandbox's data mover serves, and the restore waits for it as an async item operation."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.restore.context import Progress

from .e2e import describe, namespace, namespace_errors, restore, result_volume_info, with_velero
from .helpers import make_plan, pv, pvc

SNAPSHOT_SIZE = 3 * 1024 * 1024
DATA_UPLOAD = {
    "apiVersion": "velero.io/v2alpha1",
    "kind": "DataUpload",
    "metadata": {
        "name": "nightly-x7k2p",
        "namespace": "velero",
        "labels": {"velero.io/backup-name": "nightly", "velero.io/pvc-uid": "uid-data"},
    },
    "spec": {
        "snapshotType": "CSI",
        "csiSnapshot": {"volumeSnapshot": "velero-data-x7k2p", "storageClass": "standard"},
        "sourcePVC": "data",
        "datamover": "velero",
        "backupStorageLocation": "default",
        "sourceNamespace": "shop",
        "operationTimeout": "10m0s",
    },
    "status": {
        "phase": "Completed",
        "snapshotID": "8d3c5a1f0b2e",
        "progress": {"totalBytes": SNAPSHOT_SIZE, "bytesDone": SNAPSHOT_SIZE},
        "nodeOS": "linux",
        "node": "node-1",
    },
}


def moved_backup(claim_annotations: dict[str, str] | None = None, data_upload: bool = True) -> BackupBuilder:
    """A backup made with snapshotMoveData: the claim, its PV (not restored) and its DataUpload."""
    backup = BackupBuilder("nightly", snapshot_move_data=True)
    claim = pvc(annotations={"velero.io/data-upload-name": "nightly-x7k2p", **(claim_annotations or {})})
    claim["spec"]["storageClassName"] = "standard"
    backup.add_all([namespace("shop"), pv(policy="Delete"), claim])
    if data_upload:
        backup.add(DATA_UPLOAD)
    backup.add_volume_info(
        {
            "pvcName": "data",
            "pvcNamespace": "shop",
            "pvName": "pv-1",
            "backupMethod": "CSISnapshot",
            "snapshotDataMoved": True,
        }
    )
    return backup


def data_downloads(sandbox: Any) -> list[dict[str, Any]]:
    return sandbox.objects("datadownloads.velero.io", "velero")


def wait_for_phase(sandbox: Any, name: str, phase: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sandbox.get("datadownloads.velero.io", name, "velero") or {}
        if (found.get("status") or {}).get("phase") == phase:
            return True
        time.sleep(0.02)
    return False


def result_config_maps(sandbox: Any) -> list[dict[str, Any]]:
    return [
        cm
        for cm in sandbox.objects("configmaps", "velero")
        if (cm["metadata"].get("labels") or {}).get("velero.io/resource-usage") == "DataUpload"
    ]


@pytest.mark.sandbox(data_download_delay=0.05)
def test_moved_volume_comes_back_through_a_data_download(sandbox: Any, tmp_path: Path) -> None:
    with_velero(sandbox)
    seen: dict[str, Any] = {"phases": [], "config_maps": []}

    def watch(progress: Progress) -> None:
        seen["phases"].append(progress.phase)
        if progress.step == "restore" and not seen["config_maps"]:
            seen["config_maps"] = result_config_maps(sandbox)

    result = restore(sandbox, tmp_path, moved_backup(), on_progress=watch)

    assert result.phase == "Completed", result.results
    assert "WaitingForPluginOperations" in seen["phases"]
    [config_map] = seen["config_maps"]
    uid = config_map["metadata"]["labels"]["velero.io/restore-uid"]
    assert config_map["metadata"]["name"].startswith("nightly-x7k2p-")
    assert config_map["metadata"]["labels"] == {
        "velero.io/restore-uid": uid,
        "velero.io/pvc-namespace-name": "shop.data",
        "velero.io/resource-usage": "DataUpload",
    }
    assert json.loads(config_map["data"][uid]) == {
        "backupStorageLocation": "default",
        "datamover": "velero",
        "snapshotID": "8d3c5a1f0b2e",
        "sourceNamespace": "shop",
        "nodeOS": "linux",
        "snapshotSize": SNAPSHOT_SIZE,
    }
    assert result_config_maps(sandbox) == []  # deleted at the end of the restore
    # the DataUpload itself is never restored
    assert result.resource_list["velero.io/v2alpha1/DataUpload"] == ["velero/nightly-x7k2p(skipped)"]
    assert sandbox.objects("datauploads.velero.io", "velero") == []

    [download] = data_downloads(sandbox)
    operation_id = f"dd-{uid}.uid-data"
    assert download["metadata"]["name"].startswith("r1-")
    assert download["metadata"]["labels"] == {
        "velero.io/restore-name": "r1",
        "velero.io/restore-uid": uid,
        "velero.io/async-operation-id": operation_id,
    }
    assert "ownerReferences" not in download["metadata"]
    assert download["spec"] == {
        "targetVolume": {"pvc": "data", "pv": "", "namespace": "shop"},
        "backupStorageLocation": "default",
        "datamover": "velero",
        "snapshotID": "8d3c5a1f0b2e",
        "sourceNamespace": "shop",
        "operationTimeout": "10m0s",
        "nodeOS": "linux",
        "snapshotSize": SNAPSHOT_SIZE,
    }
    assert download["status"]["phase"] == "Completed"

    claim = sandbox.get("persistentvolumeclaims", "data", "shop")
    assert claim["status"]["phase"] == "Bound"
    restored_label = claim["spec"]["selector"]["matchLabels"]["velero.io/dynamic-pv-restore"]
    assert restored_label.startswith("shop.data.")
    volume = sandbox.get("persistentvolumes", claim["spec"]["volumeName"])
    assert volume["metadata"]["labels"] == {"velero.io/dynamic-pv-restore": restored_label}
    assert sandbox.get("persistentvolumes", "pv-1") is None  # the backup's PV is not restored

    [operation] = BackupStorage.open(str(tmp_path / "bsl")).restores.item_operations("r1")
    assert operation["spec"]["restoreItemAction"] == "velero.io/csi-pvc-restorer"
    assert operation["spec"]["operationID"] == operation_id
    assert operation["spec"]["resourceIdentifier"] == {
        "Group": "",
        "Resource": "persistentvolumeclaims",
        "Namespace": "shop",
        "Name": "data",
    }
    status = operation["status"]
    assert (status["phase"], status["nCompleted"], status["nTotal"], status["operationUnits"]) == (
        "Completed",
        SNAPSHOT_SIZE,
        SNAPSHOT_SIZE,
        "Bytes",
    )
    assert status["description"] == "Completed" and status["started"] and status["updated"]
    counts = result.status["status"]
    assert (counts["restoreItemOperationsAttempted"], counts["restoreItemOperationsCompleted"]) == (1, 1)
    assert result_volume_info(tmp_path) == [
        {
            "pvcName": "data",
            "pvcNamespace": "shop",
            "pvName": claim["spec"]["volumeName"],
            "restoreMethod": "CSISnapshot",
            "snapshotDataMoved": True,
            "snapshotDataMovementInfo": {
                "dataMover": "velero",
                "uploaderType": "kopia",
                "snapshotHandle": "8d3c5a1f0b2e",
                "operationID": operation_id,
            },
        }
    ]
    details = describe(tmp_path, "--details")
    assert "CSI Snapshot Restores:\n  shop/data:\n    Data Movement:\n" in details
    assert f"Operation ID: {operation_id}\n" in details and "Uploader Type: kopia\n" in details


@pytest.mark.sandbox(data_download_delay=0.02)
def test_a_failed_data_download_makes_the_restore_partially_failed(sandbox: Any, tmp_path: Path) -> None:
    with_velero(sandbox)
    backup = moved_backup({"sandbox.restoreflow.dev/data-download": "fail"})
    result = restore(sandbox, tmp_path, backup)
    assert result.phase == "PartiallyFailed"
    assert result.results["errors"]["velero"] == [
        "error from restore item operation: data path restore failed: Failed to run kopia restore: "
        "restore failed as requested by the annotation sandbox.restoreflow.dev/data-download"
    ]
    [operation] = BackupStorage.open(str(tmp_path / "bsl")).restores.item_operations("r1")
    assert operation["status"]["phase"] == "Failed"
    assert sandbox.get("persistentvolumeclaims", "data", "shop")["status"]["phase"] == "Pending"
    assert result_config_maps(sandbox) == []


@pytest.mark.sandbox(data_download_delay=0.02)
def test_a_data_download_running_past_the_item_operation_timeout_is_cancelled(
    sandbox: Any, tmp_path: Path
) -> None:
    with_velero(sandbox)
    backup = moved_backup({"sandbox.restoreflow.dev/data-download": "hang"})
    plan = make_plan()
    plan = replace(plan, spec=replace(plan.spec, item_operation_timeout=1.0))
    seen: list[tuple[int, int]] = []
    result = restore(sandbox, tmp_path, backup, plan, on_progress=lambda p: seen.append(p.volume_bytes))
    assert result.phase == "PartiallyFailed"
    assert (SNAPSHOT_SIZE // 2, SNAPSHOT_SIZE) in seen  # the data mover's bytes, while it ran
    assert result.results["errors"]["velero"] == [
        "error from restore item operation: Asynchronous action timed out"
    ]
    [download] = data_downloads(sandbox)
    assert download["spec"]["cancel"] is True
    assert wait_for_phase(sandbox, download["metadata"]["name"], "Canceled")  # the data mover stopped
    [operation] = BackupStorage.open(str(tmp_path / "bsl")).restores.item_operations("r1")
    assert operation["status"]["error"] == "Asynchronous action timed out"
    assert operation["status"]["nTotal"] == SNAPSHOT_SIZE  # the last progress it reported


def test_a_claim_without_its_data_upload_result_fails_with_velero_error(sandbox: Any, tmp_path: Path) -> None:
    with_velero(sandbox)
    result = restore(sandbox, tmp_path, moved_backup(data_upload=False))
    assert result.phase == "PartiallyFailed"
    [error] = namespace_errors(result, "shop")
    assert error.startswith(
        "error preparing persistentvolumeclaims/shop/data: fail get DataUploadResult for restore: r1: "
        "no DataUpload result cm found with labels "
        "velero.io/pvc-namespace-name=shop.data,velero.io/restore-uid="
    )
    assert error.endswith(",velero.io/resource-usage=DataUpload")
    assert data_downloads(sandbox) == []
    assert sandbox.get("persistentvolumeclaims", "data", "shop") is None
