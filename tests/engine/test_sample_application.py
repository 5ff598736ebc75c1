"""The sample application (every kind a restore meets) restored end to end, then restored again."""

from __future__ import annotations

import pytest

from restoreflow.backup import BackupStorage, sample_backup
from restoreflow.restore import run_restore
from tests.engine.helpers import make_plan


@pytest.mark.sandbox(velero_crds=True)
def test_the_sample_application_restores_completely_and_a_rerun_creates_nothing(sandbox, tmp_path):
    location = tmp_path / "bsl"
    location.mkdir()
    sample_backup(BackupStorage.open(str(location)))
    plan = make_plan(sandbox, str(location), backup="demo-backup", include_cluster_resources=True)

    first = run_restore(plan, restore_name="sample")
    assert first.phase == "Completed", first.results
    assert first.counts["failed"] == 0 and first.counts["created"] > 10
    assert first.resource_list["apiextensions.k8s.io/v1/CustomResourceDefinition"] == [
        "widgets.example.com(created)"
    ]
    assert sandbox.get("widgets.example.com", "blue", "shop") is not None
    assert sandbox.get("deployments.apps", "web", "shop") is not None

    again = run_restore(plan, restore_name="sample-again")
    assert again.phase == "Completed", again.results
    assert again.counts["created"] == 0
    assert again.results["errors"] == {}
