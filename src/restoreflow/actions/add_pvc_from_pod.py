"""`velero.io/add-pvc-from-pod`: a pod's claims are restored with it (before it)."""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo, ResourceIdentifier
from restoreflow.kube.fields import nested, nested_list


class AddPVCFromPodAction:
    name = "velero.io/add-pvc-from-pod"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("pods",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        pod = action_input.item
        namespace = nested(pod, "metadata", "namespace") or ""
        claims = [
            ResourceIdentifier(
                "persistentvolumeclaims", namespace, volume["persistentVolumeClaim"]["claimName"]
            )
            for volume in nested_list(pod, "spec", "volumes")
            if isinstance(volume, dict) and nested(volume, "persistentVolumeClaim", "claimName")
        ]
        return ActionResult(item=pod, additional_items=claims)
