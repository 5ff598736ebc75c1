"""Velero users bring their Restore objects: the equivalent plan, and problems pointing into them."""

from __future__ import annotations

from pathlib import Path

import pytest

from restoreflow.plan import PlanError, plan_from_document, velero_restore_to_document
from restoreflow.plan.velero import load_velero_restore

HERE = Path(__file__).parent / "velero"


def test_a_velero_restore_becomes_the_equivalent_plan() -> None:
    document = load_velero_restore(HERE / "restore.yaml", "s3://velero-backups/prod")
    assert document["metadata"] == {"name": "shop-restore-20261124"}
    spec = document["spec"]
    assert spec["source"] == {
        "storageLocation": "s3://velero-backups/prod",
        "backupName": "shop-20261124010000",
    }
    assert spec["transforms"] == {"veleroNamespace": "backup-system"}
    assert spec["timeouts"] == {"fsBackupRestore": "2h"}
    plan = plan_from_document(document).spec
    assert plan.included_namespaces == ("shop",)
    assert plan.included_resources == ("*",)
    assert plan.excluded_resources[0] == "storageclasses.storage.k8s.io"
    assert plan.restore_status is not None and plan.restore_status.included_resources == (
        "workflows.example.com",
    )
    assert plan.include_cluster_resources is None
    assert plan.label_selector == {"matchLabels": {"app": "shop"}}
    assert dict(plan.namespace_mapping) == {"shop": "shop-restored"}
    assert (plan.restore_pvs, plan.preserve_node_ports, plan.existing_resource_policy) == (
        True,
        True,
        "update",
    )
    assert plan.item_operation_timeout == 4 * 3600.0
    assert plan.resource_modifier == {"kind": "ConfigMap", "name": "shop-modifiers"}
    assert (plan.uploader_config.write_sparse_files, plan.uploader_config.parallel_files_download) == (
        True,
        4,
    )
    hook = plan.hooks[0]
    assert hook.name == "restore-hook-1" and hook.label_selector == {"matchLabels": {"app": "db"}}
    init, exec_hook = hook.post_hooks[0].init, hook.post_hooks[1].exec
    assert (
        init is not None and init.init_containers[0]["name"] == "restore-hook-init1" and init.timeout == 120.0
    )
    assert exec_hook is not None
    assert (exec_hook.container, exec_hook.exec_timeout, exec_hook.wait_timeout) == ("db", 60.0, 300.0)
    assert plan.timeouts.fs_backup_restore == 7200.0
    assert plan.transforms.velero_namespace == "backup-system"


def test_conversion_keeps_velero_field_names_and_drops_nothing() -> None:
    restore = {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"generateName": "nightly-", "namespace": "velero"},
        "spec": {"scheduleName": "nightly", "existingResourcePolicy": "", "orLabelSelectors": None},
    }
    assert velero_restore_to_document(restore, "/backups") == {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "nightly"},
        "spec": {"source": {"storageLocation": "/backups", "scheduleName": "nightly"}},
    }


def test_problems_point_into_the_velero_file() -> None:
    path = HERE / "invalid-restore.yaml"
    with pytest.raises(PlanError) as caught:
        load_velero_restore(path, "/backups")
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:7:17: spec.scheduleName: Either a backup or schedule must be specified as a source for the "
        "restore, but not both",
        f"{path}:9:23: spec.includedResources[0]: nodes are non-restorable resources",
        f"{path}:9:23: spec.includedResources[0]: Invalid included/excluded resource lists: excludes list "
        "cannot contain an item in the includes list: nodes",
        f"{path}:10:27: spec.existingResourcePolicy: Invalid ExistingResourcePolicy: overwrite",
        f'{path}:11:3: spec.restorePV: unknown field "restorePV" (did you mean "restorePVs"?)',
    ]


def test_without_a_storage_location_the_rest_is_still_converted() -> None:
    document = load_velero_restore(HERE / "restore.yaml")
    assert "storageLocation" not in document["spec"]["source"]


def test_only_velero_restores_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "backup.yaml"
    path.write_text("apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: b}\n")
    with pytest.raises(PlanError) as caught:
        load_velero_restore(path, "/backups")
    assert str(caught.value) == (
        f"{path}:1:1: $: expected a velero.io/v1 Restore, found apiVersion 'velero.io/v1', kind 'Backup'"
    )
