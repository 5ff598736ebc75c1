"""`velero.io/role-bindings`: subjects follow their namespaces through the namespace mapping."""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo
from restoreflow.kube.fields import nested_list


def remap_subject_namespaces(action_input: ActionInput) -> ActionResult:
    """Each `subjects[].namespace` becomes its target namespace."""
    binding = action_input.item
    spec = action_input.restore.plan.spec
    for subject in nested_list(binding, "subjects"):
        if isinstance(subject, dict) and subject.get("namespace"):
            subject["namespace"] = spec.target_namespace(subject["namespace"])
    return ActionResult(item=binding)


class RoleBindingAction:
    name = "velero.io/role-bindings"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("rolebindings.rbac.authorization.k8s.io",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        return remap_subject_namespaces(action_input)
