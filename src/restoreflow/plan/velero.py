"""Bring a Velero `Restore` (velero.io/v1) over as an equivalent restore plan document."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from restoreflow import API_VERSION
from restoreflow.plan.errors import PlanError, Problem
from restoreflow.plan.loader import document_findings, parse_text, placed
from restoreflow.plan.model import KIND
from restoreflow.plan.nulls import prune_nulls
from restoreflow.plan.source import JsonPath

SCHEMA_COMMENT = "# yaml-language-server: $schema=../schemas/restore-plan.schema.json"
POD_VOLUME_TIMEOUT_ANNOTATION = "velero.io/pod-volume-timeout"
# Where a plan field came from in the Restore, for problems pointing into the Velero file.
_ORIGINS: dict[JsonPath, JsonPath] = {
    ("spec", "source", "backupName"): ("spec", "backupName"),
    ("spec", "source", "scheduleName"): ("spec", "scheduleName"),
    ("spec", "transforms", "veleroNamespace"): ("metadata", "namespace"),
    ("spec", "timeouts", "fsBackupRestore"): ("metadata", "annotations", POD_VOLUME_TIMEOUT_ANNOTATION),
}


def velero_restore_to_document(
    restore_doc: Mapping[str, Any], storage_location: str | None = None
) -> dict[str, Any]:
    """A plan document equivalent to a Velero Restore object.

    Velero's spec fields keep their names and place; backupName/scheduleName move to `source`
    (with `storage_location`, which a Restore does not name), the Restore's namespace becomes
    `transforms.veleroNamespace` and its `velero.io/pod-volume-timeout` annotation
    `timeouts.fsBackupRestore`. Unknown fields are carried over so that validation reports them.
    """
    metadata = dict(restore_doc.get("metadata") or {})
    spec = {k: v for k, v in dict(restore_doc.get("spec") or {}).items() if v is not None}
    source: dict[str, Any] = {} if storage_location is None else {"storageLocation": storage_location}
    for key in ("backupName", "scheduleName"):
        if spec.get(key):
            source[key] = spec[key]
        spec.pop(key, None)
    if spec.get("existingResourcePolicy") == "":
        del spec["existingResourcePolicy"]  # Velero treats "" as none
    plan_spec: dict[str, Any] = {"source": source, **spec}
    namespace = metadata.get("namespace")
    if namespace and namespace != "velero":
        plan_spec.setdefault("transforms", {})["veleroNamespace"] = namespace
    timeout = (metadata.get("annotations") or {}).get(POD_VOLUME_TIMEOUT_ANNOTATION)
    if timeout:
        plan_spec.setdefault("timeouts", {})["fsBackupRestore"] = timeout
    name = metadata.get("name") or str(metadata.get("generateName") or "restore").rstrip("-")
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": plan_spec}


def load_velero_restore(path: str | Path, storage_location: str | None = None) -> dict[str, Any]:
    """Read a Velero Restore YAML file and convert it; PlanError points into that file.

    Without `storage_location` the plan lacks `spec.source.storageLocation`, which is not reported.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise PlanError([Problem(source, None, None, "", f"cannot read the Restore: {reason}")]) from None
    parsed = parse_text(text, source)
    restore = parsed.data if isinstance(parsed.data, dict) else {}
    if restore.get("apiVersion") != "velero.io/v1" or restore.get("kind") != "Restore":
        found = f"apiVersion {restore.get('apiVersion')!r}, kind {restore.get('kind')!r}"
        raise PlanError([Problem(source, 1, 1, "$", f"expected a velero.io/v1 Restore, found {found}")])
    document = velero_restore_to_document(restore, storage_location)
    findings = document_findings(document, prune_nulls(document))  # as the Restore's CRD prunes them
    if storage_location is None:
        findings = [f for f in findings if f[0] != ("spec", "source", "storageLocation")]
    if findings:
        raise PlanError(
            placed(source, parsed.positions, _origin(path), msg, how) for path, msg, how in findings
        )
    return document


def _origin(path: JsonPath) -> JsonPath:
    """Where a field of the converted plan stands in the Restore."""
    for plan_path, origin in _ORIGINS.items():
        if path[: len(plan_path)] == plan_path:
            return origin + path[len(plan_path) :]
    return path
