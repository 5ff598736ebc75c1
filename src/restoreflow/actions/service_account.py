"""`velero.io/service-account`: the reference to the auto-generated token secret is dropped.

Like Velero: scanning `secrets` from the end, only the first `<name>-token-*` entry is removed.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo
from restoreflow.kube.fields import drop_if_empty, nested


class ServiceAccountAction:
    name = "velero.io/service-account"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("serviceaccounts",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        account = action_input.item
        secrets = account.get("secrets")
        prefix = f"{nested(account, 'metadata', 'name') or ''}-token-"
        if isinstance(secrets, list):
            for index in range(len(secrets) - 1, -1, -1):
                if isinstance(secrets[index], dict) and str(secrets[index].get("name", "")).startswith(
                    prefix
                ):
                    del secrets[index]
                    break
            drop_if_empty(account, "secrets")
        return ActionResult(item=account)
