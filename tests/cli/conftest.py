"""A storage location with backups and restore records, and a way to run the CLI in-process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupStorage, sample_backup
from restoreflow.cli import main
from tests.flow.harness import prefect_server  # the session's Prefect server, shared with tests/flow


@dataclass
class CliRun:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliRun]:
    """Run `restoreflow ARGS...` in this process; no storage location from the environment."""
    monkeypatch.delenv("RESTOREFLOW_STORAGE_LOCATION", raising=False)

    def run(*argv: str) -> CliRun:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


def restore_status(name: str, phase: str, **status: Any) -> dict[str, Any]:
    """A restore status document as the engine writes it (None values left out)."""
    document = {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "Restore",
        "metadata": {"name": name, **status.pop("metadata", {})},
        "spec": {
            "backupName": "demo-backup",
            "plan": "demo",
            "planFile": "plans/demo.yaml",
            "storageLocation": "bsl",
            "target": {"kubeconfig": "kubeconfig", "context": None},
            "includedNamespaces": ["shop"],
            "namespaceMapping": {"shop": "shop-copy"},
            "restorePVs": True,
            "preserveNodePorts": False,
            "existingResourcePolicy": "none",
            "itemOperationTimeout": "4h0m0s",
            **status.pop("spec", {}),
        },
        "status": {
            "phase": phase,
            "startTimestamp": "2026-11-25T10:00:00Z",
            "completionTimestamp": "2026-11-25T10:00:07Z",
            "progress": {"totalItems": 3, "itemsRestored": 3},
            "warnings": 0,
            "errors": 0,
            "hookStatus": {"hooksAttempted": 1, "hooksFailed": 0},
            "counts": {"created": 3, "updated": 0, "skipped": 0, "failed": 0},
            "flowRunId": "0b5c1d8e-6f0e-4a55-a1b6-0c0ffee00001",
            **status,
        },
    }
    document["status"] = {key: value for key, value in document["status"].items() if value is not None}
    return document


@pytest.fixture
def bsl(tmp_path: Path) -> BackupStorage:
    """Two backups and three restore records: Completed, PartiallyFailed, FailedValidation."""
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    sample_backup(storage, "demo-backup")
    sample_backup(storage, "nightly-20261124010000", schedule="nightly")
    records = storage.restores
    records.write(
        "shop-restore",
        status=restore_status("shop-restore", "Completed", metadata={"labels": {"team": "shop"}}),
        results={},
        resource_list={
            "v1/ConfigMap": ["shop-copy/web-config(created)"],
            "v1/Namespace": ["shop-copy(created)"],
            "v1/Secret": ["shop-copy/web-credentials(created)"],
        },
        logs='time="2026-11-25T10:00:01Z" level=info msg="restore started" restore=shop-restore\n',
        item_operations=[],
        volume_info=[],
    )
    records.write(
        "shop-partial",
        status=restore_status(
            "shop-partial",
            "PartiallyFailed",
            startTimestamp="2026-11-25T11:00:00Z",
            warnings=1,
            errors=2,
            counts={"created": 1, "updated": 0, "skipped": 1, "failed": 1},
            spec={"labelSelector": {"matchLabels": {"app": "web"}}},
        ),
        results={
            "warnings": {
                "cluster": [
                    'could not restore, CustomResourceDefinition "widgets.example.com" already exists'
                ]
            },
            "errors": {
                "velero": ["timed out waiting for all PodVolumeRestores to complete"],
                "namespaces": {"shop-copy": ["error restoring pods/shop-copy/db-0: admission denied"]},
            },
        },
        resource_list={
            "v1/Pod": ["shop-copy/db-0(failed)", "shop-copy/toolbox(created)"],
            "v1/Service": ["shop-copy/web(skipped)"],
        },
        logs="partial log\n",
        item_operations=[],
        volume_info=[],
    )
    records.write_status(
        "bad-restore",
        restore_status(
            "bad-restore",
            "FailedValidation",
            startTimestamp=None,
            completionTimestamp="2026-11-25T09:00:00Z",
            validationErrors=['backup "missing" not found in backup storage location bsl'],
            progress={},
            counts={},
        ),
    )
    return storage


__all__ = ["prefect_server"]
