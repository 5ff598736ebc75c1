"""`velero.io/apiservice`: APIServices that Kubernetes manages itself are not restored."""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo

AUTOMANAGED_LABEL = "kube-aggregator.kubernetes.io/automanaged"


class APIServiceAction:
    name = "velero.io/apiservice"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(
            included_resources=("apiservices.apiregistration.k8s.io",), label_selector=AUTOMANAGED_LABEL
        )

    def execute(self, action_input: ActionInput) -> ActionResult:
        return ActionResult(item=action_input.item, skip_restore=True)
