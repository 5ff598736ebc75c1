"""The restore record: the status document and what finalize writes to the storage location."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from restoreflow import API_VERSION
from restoreflow.backup.liveness import RUNNING_PHASES, process_identity
from restoreflow.kube.names import invalid_value, label_value_errors, qualified_name_errors
from restoreflow.plan.model import RestorePlan

VELERO_SPEC_FIELDS = (
    "includedNamespaces",
    "excludedNamespaces",
    "includedResources",
    "excludedResources",
    "includeClusterResources",
    "labelSelector",
    "orLabelSelectors",
    "namespaceMapping",
    "restorePVs",
    "preserveNodePorts",
    "existingResourcePolicy",
    "restoreStatus",
    "hooks",
    "itemOperationTimeout",
    "resourceModifier",
    "uploaderConfig",
)


def timestamp(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def spec_document(ctx: Any) -> dict[str, Any]:
    plan: RestorePlan = ctx.plan
    source, target = plan.spec.source, plan.spec.target
    spec: dict[str, Any] = {
        "backupName": ctx.backup_name or None,
        "scheduleName": ctx.schedule_name,
        "plan": plan.name,
        "planFile": plan.source_file,
        "storageLocation": source.storage_location,
        "target": {"kubeconfig": target.kubeconfig, "context": target.context},
    }
    document_spec = dict((plan.document or {}).get("spec") or {})
    for key in VELERO_SPEC_FIELDS:
        if key in document_spec:
            spec[key] = document_spec[key]
    if not document_spec:
        spec.update(
            includedNamespaces=list(plan.spec.included_namespaces),
            excludedNamespaces=list(plan.spec.excluded_namespaces),
            includedResources=list(plan.spec.included_resources),
            excludedResources=list(plan.spec.excluded_resources),
            includeClusterResources=plan.spec.include_cluster_resources,
            namespaceMapping=dict(plan.spec.namespace_mapping),
            existingResourcePolicy=plan.spec.existing_resource_policy,
        )
    return spec


def status_document(ctx: Any, phase: str) -> dict[str, Any]:
    """restoreflow-restore.json: shaped like a Velero Restore so Velero users recognise it."""
    counts = ctx.restored.counts()
    # While it runs, the total is what prepare selected, fixed so a progress bar never jumps back. A
    # restore that ran to its end says total = restored = the items restored (Velero's last progress
    # patch); a Failed one keeps how far it got.
    finished = phase in ("Completed", "PartiallyFailed")
    total = len(ctx.restored) if finished else ctx.progress.total_items
    restored = len(ctx.restored) if finished else min(ctx.progress.items_restored, total)
    status: dict[str, Any] = {
        "phase": phase,
        "startTimestamp": timestamp(ctx.start_timestamp),
        "completionTimestamp": timestamp(ctx.completion_timestamp),
        "progress": {"totalItems": total, "itemsRestored": restored},
        "stepProgress": None if finished or phase != "InProgress" else _step_progress(ctx.progress),
        "warnings": ctx.results.warning_count,
        "errors": ctx.results.error_count,
        "failureReason": ctx.failure_reason or None,
        "validationErrors": list(ctx.validation_errors) or None,
        "hookStatus": {"hooksAttempted": ctx.hook_status.attempted, "hooksFailed": ctx.hook_status.failed},
        **_operation_counts(ctx.item_operations),
        "counts": counts,
        "podVolumeRestores": dict(ctx.pod_volume_restore_counts),
        "apiRetries": {"total": ctx.cluster.total_retries if ctx.connected else 0, **_retries(ctx)},
        "flowRunId": ctx.flow_run_id,
        "process": process_identity() if phase in RUNNING_PHASES else None,  # see backup/liveness.py
        "verification": ctx.verification.summary() if ctx.verification is not None else None,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "Restore",
        "metadata": record_metadata(ctx.name, ctx.uid, ctx.labels),
        "spec": spec_document(ctx),
        "status": {k: v for k, v in status.items() if v is not None},
    }


def _step_progress(progress: Any) -> dict[str, Any]:
    """While it runs: the engine step, each resource group's items, volumes and their bytes (`--wait`)."""
    groups = {name: {"done": p.done, "total": p.total} for name, p in progress.per_resource.items()}
    document: dict[str, Any] = {"step": progress.step, "groups": groups}
    if progress.volumes_planned:
        document["volumes"] = {"done": progress.volumes_done, "total": progress.volumes_planned}
    done, total = progress.volume_bytes
    if total:
        document["bytes"] = {"done": done, "total": total}  # volume data, where it is reported
    return document


def _operation_counts(item_operations: list[dict[str, Any]]) -> dict[str, int]:
    """Velero's restoreItemOperations{Attempted,Completed,Failed}, when an action started any."""
    if not item_operations:
        return {}
    phases = [op["status"]["phase"] for op in item_operations]
    return {
        "restoreItemOperationsAttempted": len(phases),
        "restoreItemOperationsCompleted": phases.count("Completed"),
        "restoreItemOperationsFailed": phases.count("Failed"),
    }


def record_metadata(name: str, uid: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """A Restore's metadata: its labels are there from the first status document on, as in Velero."""
    metadata: dict[str, Any] = {"name": name, "uid": uid}
    if labels:
        metadata["labels"] = dict(labels)
    return metadata


def label_errors(labels: Mapping[str, str]) -> list[str]:
    """What the API server would say of a Restore's labels (`restore get -l` must be able to match them)."""
    errors = []
    for key, value in labels.items():
        if problems := qualified_name_errors(key):
            errors.append(f"metadata.labels: {invalid_value(key, problems)}")
        if problems := label_value_errors(value):
            errors.append(f"metadata.labels: {invalid_value(value, problems)}")
    return errors


def _retries(ctx: Any) -> dict[str, dict[str, int]]:
    if not ctx.connected:
        return {}
    return {"byReason": dict(sorted(ctx.cluster.retry_counts.items()))} if ctx.cluster.retry_counts else {}


@dataclass
class RestoreResult:
    """What a finished restore reports (also written to the storage location)."""

    name: str
    phase: str
    backup_name: str
    warnings: int = 0
    errors: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    resource_list: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    failure_reason: str = ""
    validation_errors: list[str] = field(default_factory=list)
    retries: int = 0
    record_url: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.phase == "Completed"

    def summary(self) -> str:
        c = self.counts
        return (
            f"restore {self.name} {self.phase}: {c.get('created', 0)} created, "
            f"{c.get('updated', 0)} updated, "
            f"{c.get('skipped', 0)} skipped, {c.get('failed', 0)} failed; "
            f"{self.warnings} warnings, {self.errors} errors"
        )
