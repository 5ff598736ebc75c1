"""Backups with volumes, restored end to end into the sandbox with `run_restore`."""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.cli import main
from restoreflow.plan.model import RestorePlan, Target
from restoreflow.restore import RestoreResult, run_restore
from restoreflow.sandbox.crds import snapshot_crds, velero_crds

from .helpers import make_plan


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def serve_crds(sandbox: Any, crds: list[dict[str, Any]], *extra: dict[str, Any]) -> None:
    """Install CRDs (and objects of them) in the sandbox and wait until they are established."""
    sandbox.load(crds)
    names = [c["metadata"]["name"] for c in crds]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [sandbox.get("customresourcedefinitions.apiextensions.k8s.io", n) for n in names]
        if all(_established(c) for c in found):
            break
        time.sleep(0.02)
    if extra:
        sandbox.load(list(extra))


def _established(crd: dict[str, Any] | None) -> bool:
    conditions = ((crd or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def with_velero(sandbox: Any, *objects: dict[str, Any]) -> None:
    serve_crds(sandbox, velero_crds(), *objects)
    if sandbox.get("namespaces", "velero") is None:
        sandbox.load([namespace("velero")])


def with_snapshots(sandbox: Any) -> None:
    serve_crds(sandbox, snapshot_crds())


def restore(
    sandbox: Any, tmp_path: Path, backup: BackupBuilder, plan: RestorePlan | None = None, **options: Any
) -> RestoreResult:
    """Write the backup into a local storage location and restore it into the sandbox as `r1`."""
    location = tmp_path / "bsl"
    backup.write(str(location))
    plan = plan or make_plan()
    spec = replace(
        plan.spec,
        source=replace(plan.spec.source, storage_location=str(location), backup_name=backup.name),
        target=Target(kubeconfig=str(sandbox.kubeconfig)),
    )
    return run_restore(replace(plan, spec=spec), restore_name="r1", **options)


def namespace_errors(result: RestoreResult, name: str) -> list[str]:
    return ((result.results.get("errors") or {}).get("namespaces") or {}).get(name, [])


def result_volume_info(tmp_path: Path) -> list[dict[str, Any]]:
    """The restore volume info `r1` recorded (`restore-r1-volumeinfo.json.gz`)."""
    return BackupStorage.open(str(tmp_path / "bsl")).restores.volume_info("r1")


def describe(tmp_path: Path, *flags: str) -> str:
    """`restoreflow restore describe r1 [flags]`, as a user runs it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["restore", "describe", "r1", *flags, "--storage-location", str(tmp_path / "bsl")]) == 0
    return out.getvalue()
