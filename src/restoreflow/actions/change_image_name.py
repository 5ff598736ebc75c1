"""`velero.io/change-image-name`: rewrite container images with Velero's `old,new` rows.

A row is split at its first comma; both parts are trimmed. A row applies to an image when the old
part occurs in it and something follows the comma; the image then has EVERY occurrence of the old
part replaced by the new part. Only the first applicable row is used. Velero picks among rows in
random map order; restoreflow makes it deterministic: the plan's `transforms.imageNameMapping`
rows in the order listed, then (with `honorVeleroConfigMaps`) the ConfigMap's rows in key order,
so the plan wins where both speak. Containers and init containers of pods, of workload templates
and of cronjob job templates are rewritten; empty images are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo
from restoreflow.actions.plugin_config import PluginConfig
from restoreflow.kube.fields import nested_list

PLUGIN = "velero.io/change-image-name"


def replace_image(image: str, rows: Iterable[str]) -> str:
    """The image rewritten by the first applicable row (unchanged when none applies)."""
    if not image:
        return image
    for row in rows:
        comma = row.find(",")
        if comma < 0:
            continue
        old, new = row[:comma].strip(), row[comma + 1 :].strip()
        if old in image and len(row[comma:]) > 1:
            return image.replace(old, new)
    return image


def pod_spec_path(kind: str) -> tuple[str, ...]:
    if kind == "Pod":
        return ("spec",)
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


class ChangeImageNameAction:
    name = PLUGIN

    def __init__(self) -> None:
        self._config = PluginConfig(PLUGIN)

    def applies_to(self) -> AppliesTo:
        return AppliesTo(
            included_resources=(
                "deployments.apps",
                "statefulsets.apps",
                "daemonsets.apps",
                "replicasets.apps",
                "replicationcontrollers",
                "jobs.batch",
                "cronjobs.batch",
                "pods",
            )
        )

    def rows(self, action_input: ActionInput) -> Sequence[str]:
        config = self._config.data(action_input.restore)
        plan_rows = action_input.restore.plan.spec.transforms.image_name_mapping
        return (*plan_rows, *(config[key] for key in sorted(config)))

    def execute(self, action_input: ActionInput) -> ActionResult:
        item = action_input.item
        rows = self.rows(action_input)
        if not rows:
            return ActionResult(item=item)
        path = pod_spec_path(str(item.get("kind", "")))
        for field in ("containers", "initContainers"):
            for container in nested_list(item, *path, field):
                if isinstance(container, dict) and isinstance(container.get("image"), str):
                    container["image"] = replace_image(container["image"], rows)
        return ActionResult(item=item)
