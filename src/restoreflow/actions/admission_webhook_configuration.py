"""`velero.io/admission-webhook-configuration`: v1 webhooks must declare safe sideEffects.

admissionregistration.k8s.io/v1 accepts only `None` and `NoneOnDryRun`; anything else (v1beta1's
`Unknown`/`Some`, or a missing value) becomes `None` so the object can be created.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo

SAFE_SIDE_EFFECTS = ("None", "NoneOnDryRun")


class AdmissionWebhookConfigurationAction:
    name = "velero.io/admission-webhook-configuration"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(
            included_resources=(
                "mutatingwebhookconfigurations.admissionregistration.k8s.io",
                "validatingwebhookconfigurations.admissionregistration.k8s.io",
            )
        )

    def execute(self, action_input: ActionInput) -> ActionResult:
        item = action_input.item
        webhooks = item.get("webhooks")
        if item.get("apiVersion") != "admissionregistration.k8s.io/v1" or not isinstance(webhooks, list):
            return ActionResult(item=item)
        for webhook in webhooks:
            if isinstance(webhook, dict) and webhook.get("sideEffects") not in SAFE_SIDE_EFFECTS:
                webhook["sideEffects"] = "None"
        return ActionResult(item=item)
