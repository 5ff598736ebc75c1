"""Async restore item operations (RestoreItemAction v2), from a plugin installed as pip would.

The plugin starts an "import" per ConfigMap and reports on it: `fast` completes on the second poll,
`broken` completes with an error, `stuck` never completes (so the plan's itemOperationTimeout
cancels it). The restore waits in WaitingForPluginOperations, then records what happened.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.cli import main
from restoreflow.plan import plan_from_document
from restoreflow.restore import run_restore
from tests.plugins.entry_points import installed_plugin

PLUGIN_MODULE = """
from datetime import datetime, timezone

from restoreflow.actions.base import ActionResult, AppliesTo, OperationProgress

POLLS = {}
CANCELLED = []
STARTED = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)


class Import:
    name = "example.com/import"

    def applies_to(self):
        return AppliesTo(included_resources=("configmaps",))

    def execute(self, action_input):
        name = action_input.item["metadata"]["name"]
        return ActionResult(item=action_input.item, operation_id="import-" + name)

    def progress(self, operation_id, restore):
        POLLS[operation_id] = POLLS.get(operation_id, 0) + 1
        if operation_id == "import-broken":
            return OperationProgress(completed=True, error="copy failed: disk full")
        if operation_id == "import-fast" and POLLS[operation_id] >= 2:
            return OperationProgress(completed=True, n_completed=10, n_total=10, operation_units="files",
                                     started=STARTED, updated=STARTED)
        return OperationProgress(n_completed=3, n_total=10, operation_units="files",
                                 description="copying", started=STARTED, updated=STARTED)

    def cancel(self, operation_id, restore):
        CANCELLED.append(operation_id)
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with installed_plugin(tmp_path, monkeypatch, PLUGIN_MODULE, {"import": "{module}:Import"}) as module:
        yield lambda: sys.modules[module]


def restore_plan(storage: str, sandbox: Any, **spec: Any) -> Any:
    """Restore backup `b1` of `storage` into the sandbox."""
    source = {"storageLocation": storage, "backupName": "b1"}
    return plan_from_document(
        {
            "apiVersion": "restoreflow.dev/v1alpha1",
            "kind": "RestorePlan",
            "metadata": {"name": "async"},
            "spec": {"source": source, "target": {"kubeconfig": sandbox.kubeconfig}, **spec},
        }
    )


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"}}


def test_the_restore_waits_for_operations_and_records_them(
    plugin: Any, sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = str(tmp_path / "bsl")
    BackupBuilder("b1").add_all([configmap("fast"), configmap("broken"), configmap("stuck")]).write(storage)
    plan = restore_plan(storage, sandbox, itemOperationTimeout="1s")
    phases: list[str] = []
    result = run_restore(plan, restore_name="async-ops", on_progress=lambda p: phases.append(p.phase))

    assert "WaitingForPluginOperationsPartiallyFailed" in phases
    assert result.phase == "PartiallyFailed"
    assert sorted(result.results["errors"]["velero"]) == [
        "error from restore item operation: Asynchronous action timed out",
        "error from restore item operation: copy failed: disk full",
    ]
    assert plugin().CANCELLED == ["import-stuck"]
    assert plugin().POLLS["import-fast"] == 2
    status = result.status["status"]
    assert (
        status["restoreItemOperationsAttempted"],
        status["restoreItemOperationsCompleted"],
        status["restoreItemOperationsFailed"],
    ) == (3, 1, 2)

    operations = {
        op["spec"]["operationID"]: op
        for op in BackupStorage.open(storage).restores.item_operations("async-ops")
    }
    assert operations["import-fast"]["status"] | {"created": "-"} == {
        "phase": "Completed",
        "created": "-",
        "nCompleted": 10,
        "nTotal": 10,
        "operationUnits": "files",
        "started": "2026-11-25T10:00:00Z",
        "updated": "2026-11-25T10:00:00Z",
    }
    assert operations["import-stuck"]["status"]["error"] == "Asynchronous action timed out"
    assert operations["import-broken"]["spec"]["resourceIdentifier"] == {
        "Group": "",
        "Resource": "configmaps",
        "Namespace": "shop",
        "Name": "broken",
    }

    assert main(["restore", "describe", "async-ops", "--storage-location", storage]) == 0
    assert (
        "Restore Item Operations:  1 of 3 completed successfully, 2 failed "
        "(specify --details for more information)" in capsys.readouterr().out
    )
    assert main(["restore", "describe", "async-ops", "--details", "--storage-location", storage]) == 0
    details = capsys.readouterr().out
    assert "Operation for configmaps shop/stuck:" in details
    assert "Restore Item Action Plugin:  example.com/import" in details
    assert "Operation Error:             Asynchronous action timed out" in details
    assert "Progress:                    3 of 10 complete (files)" in details
    assert "Progress description:        copying" in details


def test_an_action_that_cannot_report_progress_fails_its_operation(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operation id from an action without `progress()` is an error, not an endless wait."""
    source = (
        "from restoreflow.actions.base import ActionResult, AppliesTo\n"
        "class Starts:\n"
        "    name = 'example.com/starts'\n"
        "    def applies_to(self):\n"
        "        return AppliesTo(included_resources=('configmaps',))\n"
        "    def execute(self, action_input):\n"
        "        return ActionResult(item=action_input.item, operation_id='op-1')\n"
    )
    storage = str(tmp_path / "bsl")
    BackupBuilder("b1").add_all([configmap("one")]).write(storage)
    plan = restore_plan(storage, sandbox)
    with installed_plugin(tmp_path, monkeypatch, source, {"starts": "{module}:Starts"}):
        result = run_restore(plan, restore_name="no-progress")
    assert result.phase == "PartiallyFailed"
    assert result.results["errors"]["velero"] == [
        "error from restore item operation: "
        "plugin example.com/starts does not report the progress of operations"
    ]
    assert sandbox.get("configmaps", "one", "shop") is not None
