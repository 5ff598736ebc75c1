"""`velero.io/cluster-role-bindings`: subjects follow their namespaces through the namespace mapping."""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo
from restoreflow.actions.role_bindings import remap_subject_namespaces


class ClusterRoleBindingAction:
    name = "velero.io/cluster-role-bindings"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("clusterrolebindings.rbac.authorization.k8s.io",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        return remap_subject_namespaces(action_input)
