"""`velero.io/pvc`: a claim is re-bound by the target cluster.

The binding and provisioner annotations and Velero's snapshot markers are removed. The
`volume.kubernetes.io/selected-node` annotation is mapped through the plan's
`transforms.nodeMapping` (over Velero's `velero.io/change-pvc-node-selector` ConfigMap when
`honorVeleroConfigMaps` is on; the plan wins); it is kept only when the mapped node exists in the
target cluster, and removed otherwise (unmapped, or mapped to a missing node). A claim that was
Bound in the backup names its PersistentVolume as an additional item.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo, ResourceIdentifier
from restoreflow.actions.plugin_config import PluginConfig
from restoreflow.kube.fields import nested, object_annotations, remove_annotations

SELECTED_NODE = "volume.kubernetes.io/selected-node"
REMOVED_ANNOTATIONS = (
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    SELECTED_NODE,
    "velero.io/volume-snapshot-name",
    "velero.io/data-upload-name",
)
NODE_SELECTOR_PLUGIN = "velero.io/change-pvc-node-selector"


class PVCAction:
    name = "velero.io/pvc"

    def __init__(self) -> None:
        self._node_config = PluginConfig(NODE_SELECTOR_PLUGIN)

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("persistentvolumeclaims",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        pvc = action_input.item
        node = object_annotations(pvc).get(SELECTED_NODE)
        remove_annotations(pvc, REMOVED_ANNOTATIONS)
        if node and (new_node := self.target_node(action_input, node)):
            pvc["metadata"].setdefault("annotations", {})[SELECTED_NODE] = new_node
        result = ActionResult(item=pvc)
        backup = action_input.item_from_backup
        volume = nested(backup, "spec", "volumeName")
        if nested(backup, "status", "phase") == "Bound" and volume:
            result.additional_items.append(ResourceIdentifier("persistentvolumes", "", volume))
        return result

    def target_node(self, action_input: ActionInput, node: str) -> str | None:
        """The mapped node if it exists in the target cluster, else None."""
        restore = action_input.restore
        mapping = {**self._node_config.data(restore), **restore.plan.spec.transforms.node_mapping}
        new_node = mapping.get(node)
        if not new_node:
            return None
        try:
            exists = restore.cluster.get("nodes", new_node) is not None
        except Exception as error:  # any API failure the engine's retries could not overcome
            raise ActionError(f"error getting node {new_node} from API: {error}") from None
        return new_node if exists else None
