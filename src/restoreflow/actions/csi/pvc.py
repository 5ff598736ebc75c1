"""`velero.io/csi-pvc-restorer`: a PVC backed up with a CSI snapshot is provisioned from it.

The PVC's `dataSource` points at the restored VolumeSnapshot (named `sha256(restoreUID/vsName)`, as
the VolumeSnapshot action names it), which is restored first as an additional item.

When the backup moved the snapshot data (`snapshotMoveData`), the volume comes back through a
DataDownload that Velero's data mover (its node agent) serves: the action creates it from the
DataUploadResult ConfigMap `velero.io/dataupload` left for this claim, and returns its operation id;
the restore then waits for it (`progress()`), and cancels it on itemOperationTimeout (`cancel()`).
The data mover binds the claim to the volume it restored, found by the claim's
`velero.io/dynamic-pv-restore` selector label, so that Kubernetes does not provision an empty one.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from restoreflow.actions.base import (
    ActionError,
    ActionInput,
    ActionResult,
    AppliesTo,
    OperationProgress,
    ResourceIdentifier,
    RestoreView,
)
from restoreflow.actions.dataupload import data_upload_result_selector
from restoreflow.actions.pod_volume_restore import uploader_settings
from restoreflow.kube.names import get_valid_name

SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
VOLUME_SNAPSHOTS = f"volumesnapshots.{SNAPSHOT_GROUP}"
VOLUME_SNAPSHOT_ANNOTATION = "velero.io/volume-snapshot-name"
DATA_UPLOAD_ANNOTATION = "velero.io/data-upload-name"
DATA_DOWNLOADS = "datadownloads.velero.io"
ASYNC_OPERATION_ID_LABEL = "velero.io/async-operation-id"
DYNAMIC_PV_RESTORE_LABEL = "velero.io/dynamic-pv-restore"
OPERATION_ID_PREFIX = "dd-"
# k8s.io/apimachinery/pkg/util/rand: lowercase consonants and digits, never a word or a lookalike
RANDOM_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def restored_snapshot_name(restore_uid: str, name: str) -> str:
    """Velero's GenerateSha256FromRestoreUIDAndVsName: unique per restore, stable across retries."""
    return hashlib.sha256(f"{restore_uid}/{name}".encode()).hexdigest()


class CsiPvcRestorerAction:
    name = "velero.io/csi-pvc-restorer"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("persistentvolumeclaims",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        pvc, restore = action_input.item, action_input.restore
        metadata, spec = pvc.get("metadata") or {}, pvc.setdefault("spec", {})
        namespace = metadata.get("namespace", "")
        target = restore.plan.spec.target_namespace(namespace)
        if restore.cluster.get("persistentvolumeclaims", metadata.get("name", ""), target) is not None:
            return ActionResult(item=pvc)
        if not restore.plan.spec.restore_pvs:
            for key in ("volumeName", "dataSource", "dataSourceRef"):
                spec.pop(key, None)
            return ActionResult(item=pvc)
        backup_metadata = action_input.item_from_backup.get("metadata") or {}
        annotations = backup_metadata.get("annotations") or {}
        if (restore.backup.get("spec") or {}).get("snapshotMoveData"):
            if DATA_UPLOAD_ANNOTATION not in annotations:
                return ActionResult(item=pvc)
            backup_uid = backup_metadata.get("uid", "")
            operation_id = get_valid_name(f"{OPERATION_ID_PREFIX}{restore.uid}.{backup_uid}")
            restore_from_data_upload_result(restore, pvc, target, operation_id)
            return ActionResult(item=pvc, operation_id=operation_id)
        vs_name = annotations.get(VOLUME_SNAPSHOT_ANNOTATION)
        if vs_name is None:
            return ActionResult(item=pvc)
        spec.pop("volumeName", None)
        spec.pop("dataSourceRef", None)
        spec["dataSource"] = {
            "apiGroup": SNAPSHOT_GROUP,
            "kind": "VolumeSnapshot",
            "name": restored_snapshot_name(restore.uid, vs_name),
        }
        return ActionResult(
            item=pvc, additional_items=[ResourceIdentifier(VOLUME_SNAPSHOTS, namespace, vs_name)]
        )

    def progress(self, operation_id: str, restore: RestoreView) -> OperationProgress:
        """The DataDownload's phase and bytes, as Velero reports them; Failed/Canceled end with its error."""
        status = find_data_download(restore, operation_id).get("status") or {}
        phase = status.get("phase") or ""
        if phase in ("", "New"):  # not picked up by a data mover yet
            return OperationProgress()
        moved = status.get("progress") or {}
        report = OperationProgress(
            description=phase,
            operation_units="Bytes",
            n_completed=int(moved.get("bytesDone") or 0),
            n_total=int(moved.get("totalBytes") or 0),
            started=_moment(status.get("startTimestamp")),
            updated=_moment(status.get("completionTimestamp")),
        )
        if phase == "Completed":
            report.completed = True
        elif phase == "Canceled":
            report.completed, report.error = True, "DataDownload is canceled"
        elif phase == "Failed":
            report.completed, report.error = True, status.get("message", "")
        return report

    def cancel(self, operation_id: str, restore: RestoreView) -> None:
        """Ask the data mover to stop (`spec.cancel`), as Velero does on itemOperationTimeout."""
        found = find_data_download(restore, operation_id)["metadata"]
        cluster: Any = restore.cluster
        try:
            cluster.patch(DATA_DOWNLOADS, found["name"], {"spec": {"cancel": True}}, found.get("namespace"))
        except Exception as error:
            raise ActionError(f"fail to cancel DataDownload {found['name']}: {error}") from None


def restore_from_data_upload_result(
    restore: RestoreView, pvc: dict[str, Any], target: str, operation_id: str
) -> dict[str, Any]:
    """Velero's restoreFromDataUploadResult: the claim waits for the data mover's volume; the
    DataDownload that restores it is created. Returns the created DataDownload."""
    result = data_upload_result(restore, pvc)
    spec = pvc["spec"]
    spec.pop("volumeName", None)
    selector = spec.get("selector") or {}
    spec["selector"] = selector
    suffix = "".join(random.choices(RANDOM_ALPHABET, k=5))
    selector.setdefault("matchLabels", {})[DYNAMIC_PV_RESTORE_LABEL] = get_valid_name(
        f"{target}.{pvc['metadata']['name']}.{suffix}"
    )
    body = new_data_download(restore, result, pvc["metadata"]["name"], target, operation_id)
    cluster: Any = restore.cluster  # actions write through the engine's client, as the engine does
    try:
        return cluster.create(DATA_DOWNLOADS, body)
    except Exception as error:
        raise ActionError(f"fail to create DataDownload: {error}") from None


def data_upload_result(restore: RestoreView, pvc: Mapping[str, Any]) -> dict[str, Any]:
    """The DataUploadResult `velero.io/dataupload` stored for this claim (by its SOURCE namespace)."""
    metadata = pvc.get("metadata") or {}
    source, name = metadata.get("namespace", ""), metadata.get("name", "")
    selector = data_upload_result_selector(restore.uid, source, name)
    prefix = f"fail get DataUploadResult for restore: {restore.name}"
    namespace = restore.plan.spec.transforms.velero_namespace
    try:
        found = restore.cluster.list("configmaps", namespace=namespace, label_selector=selector)
    except Exception as error:
        raise ActionError(
            f"{prefix}: error to get DataUpload result cm with labels {selector}: {error}"
        ) from None
    if not found:
        raise ActionError(f"{prefix}: no DataUpload result cm found with labels {selector}")
    if len(found) > 1:
        raise ActionError(f"{prefix}: multiple DataUpload result cms found with labels {selector}")
    data = (found[0].get("data") or {}).get(restore.uid)
    if data is None:
        raise ActionError(
            f"{prefix}: no DataUpload result found with restore key {restore.uid}, restore {restore.name}"
        )
    try:
        return json.loads(data)
    except ValueError:
        raise ActionError(
            f"{prefix}: error to unmarshal DataUploadResult, "
            f"restore UID {restore.uid}, restore name {restore.name}"
        ) from None


def new_data_download(
    restore: RestoreView, result: Mapping[str, Any], pvc: str, target: str, operation_id: str
) -> dict[str, Any]:
    """A velero.io/v2alpha1 DataDownload as Velero's newDataDownload builds it."""
    plan_spec = restore.plan.spec
    spec: dict[str, Any] = {
        "targetVolume": {"pvc": pvc, "pv": "", "namespace": target},
        "backupStorageLocation": result.get("backupStorageLocation", ""),
        "snapshotID": result.get("snapshotID", ""),
        "sourceNamespace": result.get("sourceNamespace", ""),
        # Velero's choice: the backup's csiSnapshotTimeout bounds the data mover's preparation
        "operationTimeout": (restore.backup.get("spec") or {}).get("csiSnapshotTimeout") or "0s",
    }
    for key in ("datamover", "nodeOS", "snapshotSize"):
        if result.get(key):
            spec[key] = result[key]
    uploader = plan_spec.uploader_config
    if uploader.write_sparse_files is not None or uploader.parallel_files_download:
        spec["dataMoverConfig"] = uploader_settings(
            uploader.write_sparse_files, uploader.parallel_files_download
        )
    # Unlike Velero's, no ownerReference to the Restore: the target holds no Restore object, and the
    # garbage collector deletes objects whose owners are all missing (as for PodVolumeRestores).
    return {
        "apiVersion": "velero.io/v2alpha1",
        "kind": "DataDownload",
        "metadata": {
            "namespace": plan_spec.transforms.velero_namespace,
            "generateName": f"{restore.name}-",
            "labels": {
                "velero.io/restore-name": get_valid_name(restore.name),
                "velero.io/restore-uid": restore.uid,
                ASYNC_OPERATION_ID_LABEL: operation_id,
            },
        },
        "spec": spec,
    }


def find_data_download(restore: RestoreView, operation_id: str) -> dict[str, Any]:
    """The one DataDownload labelled with the operation id, in the Velero namespace."""
    namespace = restore.plan.spec.transforms.velero_namespace
    selector = f"{ASYNC_OPERATION_ID_LABEL}={operation_id}"
    try:
        found = restore.cluster.list(DATA_DOWNLOADS, namespace=namespace, label_selector=selector)
    except Exception as error:
        raise ActionError(f"fail to list DataDownload: {error}") from None
    if not found:
        raise ActionError("didn't find DataDownload")
    if len(found) > 1:
        raise ActionError("find multiple DataDownloads")
    return found[0]


def _moment(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None
