"""Objects that already exist in the target: ServiceAccount merge and existingResourcePolicy (Velero 3.11)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from restoreflow.cluster import ApiError, ConnectionFault, ResourceInfo
from restoreflow.restore.metadata import (
    BACKUP_NAME_LABEL,
    RESTORE_NAME_LABEL,
    add_restore_labels,
    reset_metadata_and_status,
)
from restoreflow.restore.patches import generate_patch, semantically_equal
from restoreflow.restore.results import ItemStatus

if TYPE_CHECKING:
    from restoreflow.restore.context import RestoreContext


class Tally:
    """The warnings and errors of one item's restore call (its final action depends on them)."""

    def __init__(self, results: Any, namespace: str) -> None:
        self.results = results
        self.namespace = namespace
        self.problems = 0

    def warn(self, message: str, namespace: str | None = None) -> None:
        self.problems += 1
        self.results.add_warning(self.namespace if namespace is None else namespace, message)

    def error(self, message: str, namespace: str | None = None) -> None:
        self.problems += 1
        self.results.add_error(self.namespace if namespace is None else namespace, message)

    @property
    def clean(self) -> bool:
        return self.problems == 0


def handle_existing(
    ctx: RestoreContext,
    info: ResourceInfo,
    obj: dict[str, Any],
    live: dict[str, Any],
    status: ItemStatus,
    tally: Tally,
) -> None:
    """Compare the live object with the one being restored and apply the plan's policy."""
    status.exists = True
    labels = obj.get("metadata", {}).get("labels") or {}
    from_cluster = reset_metadata_and_status(copy.deepcopy(live))
    add_restore_labels(from_cluster, labels.get(BACKUP_NAME_LABEL, ""), labels.get(RESTORE_NAME_LABEL, ""))
    with_labels = copy.deepcopy(from_cluster)
    policy = ctx.plan.spec.existing_resource_policy
    name, namespace = obj["metadata"].get("name", ""), obj["metadata"].get("namespace")

    if semantically_equal(from_cluster, obj):
        if policy == "update":
            _clear_restore_labels(from_cluster)
            _patch_labels(ctx, info, from_cluster, obj, tally)
        ctx.log.info(
            "Restore of %s, %s skipped: it already exists in the cluster "
            "and is the same as the backed up version",
            obj.get("kind"),
            name,
        )
        return

    if info.group_resource == "serviceaccounts":
        desired = merge_service_accounts(from_cluster, obj)
        patch = generate_patch(from_cluster, desired)
        if patch is None:
            return
        try:
            ctx.cluster.patch(info, name, patch, namespace)
        except (ApiError, ConnectionFault) as error:
            tally.warn(str(error))
            if policy == "update":
                _clear_restore_labels(from_cluster)
                _patch_labels(ctx, info, from_cluster, with_labels, tally)
            return
        status.action = "updated"
        ctx.log.info("ServiceAccount %s/%s successfully updated", namespace, name)
        return

    if policy == "none":
        tally.warn(
            f'could not restore, {obj.get("kind")} "{name}" already exists. '
            "Warning: the in-cluster version is different than the backed-up version"
        )
        return
    if _update(ctx, info, from_cluster, with_labels, obj, tally):
        status.action = "updated"


def _update(
    ctx: RestoreContext,
    info: ResourceInfo,
    from_cluster: dict[str, Any],
    with_labels: dict[str, Any],
    obj: dict[str, Any],
    tally: Tally,
) -> bool:
    """processUpdateResourcePolicy: merge-patch the live object to the backed-up one, else only the labels."""
    _clear_restore_labels(from_cluster)
    patch = generate_patch(from_cluster, obj)
    if patch is None:
        return True
    name, namespace = obj["metadata"].get("name", ""), obj["metadata"].get("namespace")
    try:
        ctx.cluster.patch(info, name, patch, namespace)
        ctx.log.info("%s %s updated by the update policy", obj.get("kind"), name)
        return True
    except (ApiError, ConnectionFault) as error:
        ctx.log.warning("patch attempt failed for %s: %s", resource_id(info, namespace, name), error)
        tally.warn(str(error))
    _patch_labels(ctx, info, from_cluster, with_labels, tally)
    return False


def _clear_restore_labels(obj: dict[str, Any]) -> None:
    labels = obj.setdefault("metadata", {}).setdefault("labels", {})
    labels[BACKUP_NAME_LABEL] = ""
    labels[RESTORE_NAME_LABEL] = ""


def _patch_labels(
    ctx: RestoreContext, info: ResourceInfo, original: dict[str, Any], desired: dict[str, Any], tally: Tally
) -> None:
    """updateBackupRestoreLabels: patch only the two restore labels to the desired values."""
    labels = (desired.get("metadata") or {}).get("labels") or {}
    patch = {"metadata": {"labels": {k: labels.get(k, "") for k in (BACKUP_NAME_LABEL, RESTORE_NAME_LABEL)}}}
    name, namespace = desired["metadata"].get("name", ""), desired["metadata"].get("namespace")
    try:
        ctx.cluster.patch(info, name, patch, namespace)
    except (ApiError, ConnectionFault) as error:
        tally.error(f"error patching backup/restore labels for {resource_id(info, namespace, name)}: {error}")


def merge_service_accounts(live: dict[str, Any], backup: dict[str, Any]) -> dict[str, Any]:
    """Velero's mergeServiceAccounts: add the backup's missing secrets, pull secrets, labels, annotations."""
    desired = copy.deepcopy(live)
    for key in ("secrets", "imagePullSecrets"):
        present = {entry.get("name") for entry in desired.get(key) or []}
        extra = [e for e in backup.get(key) or [] if e.get("name") not in present]
        if extra:
            desired[key] = list(desired.get(key) or []) + copy.deepcopy(extra)
    meta, backup_meta = desired.setdefault("metadata", {}), backup.get("metadata") or {}
    for key in ("labels", "annotations"):
        merged = dict(backup_meta.get(key) or {})
        merged.update(meta.get(key) or {})
        if merged:
            meta[key] = merged
    meta.pop("creationTimestamp", None)
    return desired


def resource_id(info: ResourceInfo | str, namespace: str | None, name: str) -> str:
    """Velero's resource ID: "<gr>/<ns>/<name>" or "<gr>/<name>"."""
    group_resource = info.group_resource if isinstance(info, ResourceInfo) else info
    return f"{group_resource}/{namespace}/{name}" if namespace else f"{group_resource}/{name}"
