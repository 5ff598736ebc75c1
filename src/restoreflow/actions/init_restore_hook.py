"""`velero.io/init-restore-hook`: init containers from restore hooks, inserted into restored pods.

Order of the result: `restore-wait` (when it is already first), then the hook containers (from the
pod's `init.hook.restore.velero.io/*` annotations, else every matching plan hook), then the pod's
own init containers.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo
from restoreflow.plan.hooks import HookError, init_hook_containers

WAIT_INIT_CONTAINER = "restore-wait"


class InitRestoreHookAction:
    name = "velero.io/init-restore-hook"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("pods",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        pod = action_input.item
        spec = pod.setdefault("spec", {})
        existing = list(spec.get("initContainers") or [])
        first = existing[:1] if existing and existing[0].get("name") == WAIT_INIT_CONTAINER else []
        plan_spec = action_input.restore.plan.spec
        namespace = pod.get("metadata", {}).get("namespace", "")
        target = plan_spec.target_namespace(namespace)
        try:
            hooks = init_hook_containers(plan_spec.hooks, pod, target)
        except HookError as err:
            raise ActionError(str(err)) from err
        combined = first + hooks + existing[len(first) :]
        if combined:
            spec["initContainers"] = combined
        return ActionResult(item=pod)
