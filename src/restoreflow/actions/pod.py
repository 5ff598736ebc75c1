"""`velero.io/pod`: a pod is rescheduled by the target cluster and gets a fresh token.

nodeName and priority are cleared (the scheduler and admission set them again), volumes and
mounts of the old service-account token (`<serviceAccountName>-token-*`) are removed, and the
pod's PriorityClass is restored before it.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo, ResourceIdentifier
from restoreflow.kube.fields import drop_if_empty, nested, nested_dict, nested_list, remove_keys


def _is_token(prefix: str, entry: object) -> bool:
    return isinstance(entry, dict) and str(entry.get("name", "")).startswith(prefix)


class PodAction:
    name = "velero.io/pod"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("pods",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        pod = action_input.item
        spec = nested_dict(pod, "spec")
        remove_keys(spec, ("nodeName", "priority"))
        prefix = f"{spec.get('serviceAccountName') or ''}-token-"
        if "volumes" in spec:
            spec["volumes"] = [v for v in nested_list(spec, "volumes") if not _is_token(prefix, v)]
            drop_if_empty(spec, "volumes")
        for container in nested_list(spec, "containers") + nested_list(spec, "initContainers"):
            if isinstance(container, dict) and "volumeMounts" in container:
                mounts = nested_list(container, "volumeMounts")
                container["volumeMounts"] = [m for m in mounts if not _is_token(prefix, m)]
                drop_if_empty(container, "volumeMounts")
        result = ActionResult(item=pod)
        if priority_class := nested(pod, "spec", "priorityClassName"):
            result.additional_items.append(
                ResourceIdentifier("priorityclasses.scheduling.k8s.io", "", priority_class)
            )
        return result
