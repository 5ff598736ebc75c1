"""A small RestoreView for action tests: real plan objects, real cluster access (or none)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from restoreflow.actions.base import ActionInput, ActionResult, ClusterReader, RestoreItemAction
from restoreflow.plan.model import RestorePlan, RestoreSpec, Source, Transforms, frozen_map


@dataclass
class View:
    """Implements restoreflow.actions.base.RestoreView over plain data."""

    plan: RestorePlan
    cluster: ClusterReader = None  # type: ignore[assignment]  # actions that read the cluster get a real one
    name: str = "restore-1"
    uid: str = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    backup_name: str = "backup-1"
    backup: dict[str, Any] = field(default_factory=dict)
    backup_contents: Any = None


def make_plan(transforms: dict[str, Any] | None = None, **spec: Any) -> RestorePlan:
    """A plan with the given spec fields (snake_case) and transforms."""
    for key in ("namespace_mapping",):
        if key in spec:
            spec[key] = frozen_map(spec[key])
    base = RestoreSpec(source=Source(storage_location="memory://backups", backup_name="backup-1"))
    t = dict(transforms or {})
    for key in ("storage_class_mapping", "node_mapping"):
        if key in t:
            t[key] = frozen_map(t[key])
    if "image_name_mapping" in t:
        t["image_name_mapping"] = tuple(t["image_name_mapping"])
    return RestorePlan(name="test-plan", spec=replace(base, transforms=Transforms(**t), **spec))


def run(
    action: RestoreItemAction,
    item: dict[str, Any],
    *,
    view: View | None = None,
    backup: dict[str, Any] | None = None,
) -> ActionResult:
    """Execute an action the way the engine does: on a copy, with the untouched backup copy beside it."""
    view = view or View(make_plan())
    original = copy.deepcopy(backup if backup is not None else item)
    return action.execute(ActionInput(item=copy.deepcopy(item), item_from_backup=original, restore=view))
