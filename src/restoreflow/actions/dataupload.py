"""`velero.io/dataupload`: a DataUpload of the backup becomes a DataUploadResult ConfigMap.

Backups made with `snapshotMoveData` hold, per volume, the DataUpload that moved its snapshot data
to the storage location. The DataUpload itself is never restored: Velero records what the data mover
needs to bring the volume back (snapshot ID, size, data mover) in a ConfigMap in the Velero namespace,
keyed by the restore's uid. `velero.io/csi-pvc-restorer` reads it when the claim comes, and the
restore deletes it at the end (see `restoreflow.restore.volumes.delete_data_upload_results`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo
from restoreflow.kube.names import get_valid_name

DATA_UPLOADS = "datauploads.velero.io"
RESTORE_UID_LABEL = "velero.io/restore-uid"
PVC_NAMESPACE_NAME_LABEL = "velero.io/pvc-namespace-name"
RESOURCE_USAGE_LABEL = "velero.io/resource-usage"
DATA_UPLOAD_USAGE = "DataUpload"


def data_upload_result_selector(restore_uid: str, namespace: str, pvc: str) -> str:
    """The label selector of the DataUploadResult ConfigMap for one source claim (Velero's order)."""
    return (
        f"{PVC_NAMESPACE_NAME_LABEL}={get_valid_name(f'{namespace}.{pvc}')},"
        f"{RESTORE_UID_LABEL}={get_valid_name(restore_uid)},"
        f"{RESOURCE_USAGE_LABEL}={get_valid_name(DATA_UPLOAD_USAGE)}"
    )


def data_upload_results_selector(restore_uid: str) -> str:
    """Every DataUploadResult ConfigMap of one restore (what the restore deletes at its end)."""
    return f"{RESTORE_UID_LABEL}={get_valid_name(restore_uid)},{RESOURCE_USAGE_LABEL}={DATA_UPLOAD_USAGE}"


def data_upload_result(data_upload: Mapping[str, Any], backup: Mapping[str, Any]) -> str:
    """Velero's DataUploadResult as Go marshals it: field order kept, empty optional fields left out."""
    spec, status = data_upload.get("spec") or {}, data_upload.get("status") or {}
    result: dict[str, Any] = {"backupStorageLocation": (backup.get("spec") or {}).get("storageLocation", "")}
    if spec.get("datamover"):
        result["datamover"] = spec["datamover"]
    if status.get("snapshotID"):
        result["snapshotID"] = status["snapshotID"]
    result["sourceNamespace"] = spec.get("sourceNamespace", "")
    if status.get("dataMoverResult") is not None:
        result["dataMoverResult"] = status["dataMoverResult"]
    if status.get("nodeOS"):
        result["nodeOS"] = status["nodeOS"]
    size = int((status.get("progress") or {}).get("totalBytes") or 0)
    if size:
        result["snapshotSize"] = size
    return json.dumps(result, separators=(",", ":"))


class DataUploadRetrieveAction:
    name = "velero.io/dataupload"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=(DATA_UPLOADS,))

    def execute(self, action_input: ActionInput) -> ActionResult:
        data_upload, restore = action_input.item_from_backup, action_input.restore
        spec = data_upload.get("spec") or {}
        source = f"{spec.get('sourceNamespace', '')}.{spec.get('sourcePVC', '')}"
        config_map = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "generateName": f"{(data_upload.get('metadata') or {}).get('name', '')}-",
                "namespace": restore.plan.spec.transforms.velero_namespace,
                "labels": {
                    RESTORE_UID_LABEL: get_valid_name(restore.uid),
                    PVC_NAMESPACE_NAME_LABEL: get_valid_name(source),
                    RESOURCE_USAGE_LABEL: get_valid_name(DATA_UPLOAD_USAGE),
                },
            },
            "data": {restore.uid: data_upload_result(data_upload, restore.backup)},
        }
        try:
            restore.cluster.create("configmaps", config_map)
        except Exception as error:
            raise ActionError(f"fail to create DataUploadResult ConfigMap: {error}") from None
        return ActionResult(item=action_input.item, skip_restore=True)
