"""`velero.io/csi-volumesnapshot-restorer`: a VolumeSnapshot restored onto its statically restored content.

Renamed to `sha256(restoreUID/name)` (the PVC's dataSource uses the same name), sourced from the
VolumeSnapshotContent of the same name, class-independent, and its content retained on deletion.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo, ResourceIdentifier
from restoreflow.actions.csi.pvc import SNAPSHOT_GROUP, restored_snapshot_name

VOLUME_SNAPSHOT_CONTENTS = f"volumesnapshotcontents.{SNAPSHOT_GROUP}"
VSC_DELETION_POLICY_ANNOTATION = "velero.io/csi-vsc-deletion-policy"


class CsiVolumeSnapshotRestorerAction:
    name = "velero.io/csi-volumesnapshot-restorer"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=(f"volumesnapshots.{SNAPSHOT_GROUP}",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        restore = action_input.restore
        if not restore.plan.spec.restore_pvs:
            return ActionResult(item=action_input.item, skip_restore=True)
        vs, backed_up = action_input.item, action_input.item_from_backup
        backed_up_name = backed_up["metadata"]["name"]
        new_name = restored_snapshot_name(restore.uid, backed_up_name)
        spec = vs.setdefault("spec", {})
        source = spec.setdefault("source", {})
        source.pop("persistentVolumeClaimName", None)
        source["volumeSnapshotContentName"] = new_name
        spec.pop("volumeSnapshotClassName", None)
        metadata = vs.setdefault("metadata", {})
        metadata["name"] = new_name
        metadata.setdefault("annotations", {})[VSC_DELETION_POLICY_ANNOTATION] = "Retain"
        content = (backed_up.get("status") or {}).get("boundVolumeSnapshotContentName")
        if not content:
            raise ActionError(f"VS {backed_up_name} doesn't have bound VSC")
        return ActionResult(
            item=vs, additional_items=[ResourceIdentifier(VOLUME_SNAPSHOT_CONTENTS, "", content)]
        )
