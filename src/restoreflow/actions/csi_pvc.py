"""`velero.io/csi-pvc-restorer`: a PVC backed up with a CSI snapshot is provisioned from it.

The PVC's `dataSource` points at the restored VolumeSnapshot (named `sha256(restoreUID/vsName)`, as
the VolumeSnapshot action names it), which is restored first as an additional item.
"""

from __future__ import annotations

import hashlib

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo, ResourceIdentifier

SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
VOLUME_SNAPSHOTS = f"volumesnapshots.{SNAPSHOT_GROUP}"
VOLUME_SNAPSHOT_ANNOTATION = "velero.io/volume-snapshot-name"
DATA_UPLOAD_ANNOTATION = "velero.io/data-upload-name"


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
        target = restore.plan.spec.namespace_mapping.get(namespace, namespace)
        if restore.cluster.get("persistentvolumeclaims", metadata.get("name", ""), target) is not None:
            return ActionResult(item=pvc)
        if not restore.plan.spec.restore_pvs:
            for key in ("volumeName", "dataSource", "dataSourceRef"):
                spec.pop(key, None)
            return ActionResult(item=pvc)
        annotations = (action_input.item_from_backup.get("metadata") or {}).get("annotations") or {}
        if (restore.backup.get("spec") or {}).get("snapshotMoveData"):
            if DATA_UPLOAD_ANNOTATION not in annotations:
                return ActionResult(item=pvc)
            raise ActionError(
                "restoring volumes whose snapshot data was moved (DataDownload) is not supported"
            )
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
