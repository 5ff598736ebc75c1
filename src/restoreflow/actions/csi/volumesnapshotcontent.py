"""`velero.io/csi-volumesnapshotcontent-restorer`: a pre-provisioned content for the restored snapshot.

Named like its VolumeSnapshot (`sha256(restoreUID/vsName)`), pointing at the snapshot handle the
backup recorded, retained on deletion, with a VolumeSnapshotClass of the same driver when the
target has one.
"""

from __future__ import annotations

import logging

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo, ResourceIdentifier
from restoreflow.actions.csi.pvc import SNAPSHOT_GROUP, restored_snapshot_name

log = logging.getLogger(__name__)

SECRET_NAME_ANNOTATION = "csi.storage.k8s.io/snapshotter-secret-name"
SECRET_NAMESPACE_ANNOTATION = "csi.storage.k8s.io/snapshotter-secret-namespace"


class CsiVolumeSnapshotContentRestorerAction:
    name = "velero.io/csi-volumesnapshotcontent-restorer"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=(f"volumesnapshotcontents.{SNAPSHOT_GROUP}",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        restore = action_input.restore
        if not restore.plan.spec.restore_pvs:
            return ActionResult(item=action_input.item, skip_restore=True)
        vsc, backed_up = action_input.item, action_input.item_from_backup
        spec = vsc.setdefault("spec", {})
        ref = spec.setdefault("volumeSnapshotRef", {})
        if ref.get("namespace"):
            ref["namespace"] = restore.plan.spec.target_namespace(ref["namespace"])
        backed_up_ref = (backed_up.get("spec") or {}).get("volumeSnapshotRef") or {}
        new_name = restored_snapshot_name(restore.uid, backed_up_ref.get("name", ""))
        vsc.setdefault("metadata", {})["name"] = new_name
        ref["name"] = new_name
        ref.pop("resourceVersion", None)
        ref.pop("uid", None)
        spec["deletionPolicy"] = "Retain"
        handle = (backed_up.get("status") or {}).get("snapshotHandle")
        if handle is None:
            raise ActionError(f"fail to get snapshot handle from VSC {new_name} status")
        spec["source"] = {"snapshotHandle": handle}
        spec.pop("volumeSnapshotClassName", None)
        try:
            classes = restore.cluster.list(f"volumesnapshotclasses.{SNAPSHOT_GROUP}")
        except Exception as err:  # Velero goes on without a class when it cannot list them
            log.warning("Failed to list VolumeSnapshotClasses: %s", err)
            classes = []
        same_driver = next((c for c in classes if c.get("driver") == spec.get("driver")), None)
        if same_driver is not None:
            spec["volumeSnapshotClassName"] = same_driver["metadata"]["name"]
        annotations = vsc["metadata"].get("annotations") or {}
        extra = []
        if SECRET_NAME_ANNOTATION in annotations and SECRET_NAMESPACE_ANNOTATION in annotations:
            extra.append(
                ResourceIdentifier(
                    "secrets", annotations[SECRET_NAMESPACE_ANNOTATION], annotations[SECRET_NAME_ANNOTATION]
                )
            )
        return ActionResult(item=vsc, additional_items=extra)
