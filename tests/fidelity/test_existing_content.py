"""An object in the target whose data holds MORE than the backup is different (Velero's DeepEqual)."""

from __future__ import annotations

from restoreflow.restore import run_restore
from tests.engine.helpers import configmap, make_plan, namespace, secret, write_backup


def backup_with_settings(tmp_path):
    location, _ = write_backup(
        tmp_path,
        [namespace("shop"), configmap("settings", "shop", data={"mode": "prod"}), secret("db", "shop")],
    )
    return location


def live_with_extra_keys(sandbox):
    extra_secret = secret("db", "shop")
    extra_secret["data"]["leftover"] = "bGVmdG92ZXItdmFsdWU="
    sandbox.load(
        [namespace("shop"), configmap("settings", "shop", data={"mode": "prod", "extra": "x"}), extra_secret]
    )


def test_extra_live_data_is_a_difference_with_policy_none(sandbox, tmp_path):
    location = backup_with_settings(tmp_path)
    live_with_extra_keys(sandbox)
    result = run_restore(make_plan(sandbox, location), restore_name="none")

    assert sorted(result.results["warnings"]["namespaces"]["shop"]) == [
        'could not restore, ConfigMap "settings" already exists. '
        "Warning: the in-cluster version is different than the backed-up version",
        'could not restore, Secret "db" already exists. '
        "Warning: the in-cluster version is different than the backed-up version",
    ]
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(failed)"]
    assert result.resource_list["v1/Secret"] == ["shop/db(failed)"]
    assert sandbox.get("configmaps", "settings", "shop")["data"] == {"mode": "prod", "extra": "x"}


def test_update_policy_removes_extra_live_data(sandbox, tmp_path):
    location = backup_with_settings(tmp_path)
    live_with_extra_keys(sandbox)
    result = run_restore(make_plan(sandbox, location, existing_resource_policy="update"), restore_name="upd")

    assert result.results == {"warnings": {}, "errors": {}}
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(updated)"]
    assert result.resource_list["v1/Secret"] == ["shop/db(updated)"]
    assert sandbox.get("configmaps", "settings", "shop")["data"] == {"mode": "prod"}
    assert sandbox.get("secrets", "db", "shop")["data"] == {"password": "czNjcjN0"}


def test_an_extra_user_annotation_is_a_difference_and_update_removes_it(sandbox, tmp_path):
    location = backup_with_settings(tmp_path)
    annotated = configmap("settings", "shop", data={"mode": "prod"}, annotations={"team": "payments"})
    sandbox.load([namespace("shop"), annotated])

    kept = run_restore(make_plan(sandbox, location), restore_name="keep")
    assert kept.resource_list["v1/ConfigMap"] == ["shop/settings(failed)"]
    assert len(kept.results["warnings"]["namespaces"]["shop"]) == 1

    updated = run_restore(make_plan(sandbox, location, existing_resource_policy="update"), restore_name="upd")
    assert updated.resource_list["v1/ConfigMap"] == ["shop/settings(updated)"]
    live = sandbox.get("configmaps", "settings", "shop")
    assert "team" not in (live["metadata"].get("annotations") or {})
    assert live["metadata"]["labels"]["velero.io/restore-name"] == "upd"
