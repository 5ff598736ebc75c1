"""Deleting a restore (Completed, PartiallyFailed or Failed) removes its record only: the cluster's
whole state, every object of every resource, is the same before and after."""

from __future__ import annotations

from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.cli import main
from restoreflow.plan.model import ApiRetries, Retries
from restoreflow.restore import run_restore
from restoreflow.sandbox import Sandbox
from tests.engine.helpers import configmap, kube_object, make_plan, namespace, secret, write_backup


def test_deleting_restores_leaves_the_cluster_as_it_was(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = kube_object("v1", "Secret", "broken", "shop", data={"k": "%%not base64%%"})
    objects = [
        namespace("shop"),
        secret("s", "shop"),
        broken,
        *(configmap(f"c{i}", "shop") for i in range(20)),
    ]
    location, _ = write_backup(tmp_path, objects)
    plan = make_plan(sandbox, location)
    partial = run_restore(plan, restore_name="partial")
    again = run_restore(plan, restore_name="again")
    sandbox.add_fault("verb=get,resource=,count=1000,code=500")  # the cluster cannot even be validated
    fast = Retries(api=ApiRetries(attempts=2, initial_backoff=0.01, max_backoff=0.02))
    failed = run_restore(make_plan(sandbox, location, retries=fast), restore_name="failed")
    sandbox.clear_faults()
    assert (partial.phase, again.phase) == ("PartiallyFailed", "PartiallyFailed")
    assert failed.phase in ("Failed", "FailedValidation")

    before = sandbox.objects()
    for name in ("partial", "again", "failed"):
        assert main(["restore", "delete", name, "--confirm", "--storage-location", location]) == 0
    after = sandbox.objects()

    assert after == before
    assert sandbox.get("configmaps", "c0", "shop") is not None  # the restored objects stay
    assert BackupStorage.open(location).restores.list() == []
    assert "Traceback" not in "".join(capsys.readouterr())
