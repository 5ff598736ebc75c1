"""`velero.io/job`: a Job's controller-uid selector and labels name the OLD job's uid; drop them
so the API server generates fresh ones."""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo
from restoreflow.kube.fields import drop_if_empty, nested, remove_keys

CONTROLLER_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")


class JobAction:
    name = "velero.io/job"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("jobs.batch",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        job = action_input.item
        for parent, key in (
            (nested(job, "spec", "selector"), "matchLabels"),
            (nested(job, "spec", "template", "metadata"), "labels"),
        ):
            remove_keys(nested(parent, key), CONTROLLER_UID_LABELS)
            drop_if_empty(parent, key)
        return ActionResult(item=job)
