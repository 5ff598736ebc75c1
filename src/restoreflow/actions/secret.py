"""`velero.io/secret`: service-account token secrets.

A token secret that Kubernetes created for a ServiceAccount (named `<sa>-token-*`, with that
ServiceAccount present in the target) is skipped: the controller makes a new one. Other token
secrets lose the old account uid and token data, which the controller fills in again.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo
from restoreflow.kube.fields import drop_if_empty, nested, remove_annotations, remove_keys

TOKEN_TYPE = "kubernetes.io/service-account-token"


class SecretAction:
    name = "velero.io/secret"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("secrets",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        secret = action_input.item
        if secret.get("type") != TOKEN_TYPE:
            return ActionResult(item=secret)
        name = nested(secret, "metadata", "name") or ""
        namespace = nested(secret, "metadata", "namespace")  # still the SOURCE namespace, as in Velero
        accounts = action_input.restore.cluster.list("serviceaccounts", namespace=namespace)
        if any(name.startswith(f"{nested(sa, 'metadata', 'name')}-token-") for sa in accounts):
            return ActionResult(item=secret, skip_restore=True)
        remove_annotations(secret, ("kubernetes.io/service-account.uid",))
        remove_keys(secret.get("data"), ("token", "ca.crt"))
        drop_if_empty(secret, "data")
        return ActionResult(item=secret)
