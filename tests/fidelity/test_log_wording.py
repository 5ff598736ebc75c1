"""The restore log words warnings and errors like Velero's restore controller."""

from __future__ import annotations

from restoreflow.backup import BackupStorage
from restoreflow.restore import run_restore
from tests.engine.helpers import configmap, make_plan, namespace, write_backup


def test_log_names_where_each_warning_belongs(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [namespace("shop"), configmap("settings", "shop")])
    sandbox.load([namespace("shop"), configmap("settings", "shop", data={"key": "changed"})])
    run_restore(make_plan(sandbox, location), restore_name="logged")

    logs = BackupStorage.open(location).restores.logs("logged")
    assert (
        'level=warning msg="Namespace shop, resource restore warning: could not restore, '
        'ConfigMap \\"settings\\" already exists.'
    ) in logs
