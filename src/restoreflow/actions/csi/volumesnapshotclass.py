"""`velero.io/csi-volumesnapshotclass-restorer`: snapshot classes come back with their lister secret."""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo, ResourceIdentifier
from restoreflow.actions.csi.pvc import SNAPSHOT_GROUP

LIST_SECRET_NAME_ANNOTATION = "csi.storage.k8s.io/snapshotter-list-secret-name"
LIST_SECRET_NAMESPACE_ANNOTATION = "csi.storage.k8s.io/snapshotter-list-secret-namespace"


class CsiVolumeSnapshotClassRestorerAction:
    name = "velero.io/csi-volumesnapshotclass-restorer"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=(f"volumesnapshotclasses.{SNAPSHOT_GROUP}",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        item = action_input.item
        if not action_input.restore.plan.spec.restore_pvs:
            return ActionResult(item=item, skip_restore=True)
        annotations = (item.get("metadata") or {}).get("annotations") or {}
        if LIST_SECRET_NAME_ANNOTATION in annotations and LIST_SECRET_NAMESPACE_ANNOTATION in annotations:
            secret = ResourceIdentifier(
                "secrets",
                annotations[LIST_SECRET_NAMESPACE_ANNOTATION],
                annotations[LIST_SECRET_NAME_ANNOTATION],
            )
            return ActionResult(item=item, additional_items=[secret])
        return ActionResult(item=item)
