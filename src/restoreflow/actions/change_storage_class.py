"""`velero.io/change-storage-class`: PVs, PVCs and StatefulSet claim templates change storage class.

The mapping is the plan's `transforms.storageClassMapping`, over (with `honorVeleroConfigMaps`)
the data of Velero's `velero.io/change-storage-class` ConfigMap: the plan wins where both speak.
The new class must exist in the target cluster, else the item fails with Velero's error
`error getting storage class <new> from API: <err>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo, RestoreView
from restoreflow.actions.plugin_config import PluginConfig
from restoreflow.kube.fields import nested, nested_list

PLUGIN = "velero.io/change-storage-class"


def require_storage_class(restore: RestoreView, name: str) -> None:
    try:
        found = restore.cluster.get("storageclasses", name)
    except Exception as error:  # any API failure the engine's retries could not overcome
        raise ActionError(f"error getting storage class {name} from API: {error}") from None
    if found is None:
        raise ActionError(
            f'error getting storage class {name} from API: storageclasses.storage.k8s.io "{name}" not found'
        )


class ChangeStorageClassAction:
    name = PLUGIN

    def __init__(self) -> None:
        self._config = PluginConfig(PLUGIN)

    def applies_to(self) -> AppliesTo:
        return AppliesTo(
            included_resources=("persistentvolumeclaims", "persistentvolumes", "statefulsets.apps")
        )

    def mapping(self, restore: RestoreView) -> Mapping[str, str]:
        return {**self._config.data(restore), **restore.plan.spec.transforms.storage_class_mapping}

    def execute(self, action_input: ActionInput) -> ActionResult:
        item = action_input.item
        mapping = self.mapping(action_input.restore)
        if not mapping:
            return ActionResult(item=item)
        if item.get("kind") == "StatefulSet":
            specs = [nested(t, "spec") for t in nested_list(item, "spec", "volumeClaimTemplates")]
        else:
            specs = [nested(item, "spec")]
        for spec in specs:
            self._change(action_input.restore, spec, mapping)
        return ActionResult(item=item)

    @staticmethod
    def _change(restore: RestoreView, spec: Any, mapping: Mapping[str, str]) -> None:
        old = spec.get("storageClassName") if isinstance(spec, dict) else None
        if not old or old not in mapping:
            return
        require_storage_class(restore, mapping[old])
        spec["storageClassName"] = mapping[old]
