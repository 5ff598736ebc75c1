"""`restoreflow restore create`: Velero's flags, plans, and the errors caught before anything runs.

With `-o`, create prints the restore it would run and stops, as `velero restore create -o` does.
"""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from restoreflow.backup import BackupStorage


def _printed(cli, *argv: str) -> dict:
    run = cli("restore", "create", *argv, "-o", "json")
    assert run.code == 0, run.err
    return json.loads(run.out)


def test_flags_alone_define_the_restore(cli, bsl: BackupStorage) -> None:
    restore = _printed(
        cli,
        "r1",
        "--from-backup", "demo-backup",
        "--storage-location", bsl.url,
        "--include-namespaces", "shop,web",
        "--include-namespaces", "db",
        "--exclude-namespaces", "kube-system",
        "--include-resources", "pods,deployments.apps",
        "--exclude-resources", "secrets",
        "--include-cluster-resources",
        "--namespace-mappings", "shop:shop-copy,web:web-copy",
        "--labels", "team=shop,tier=gold",
        "--selector", "app=web,tier in (db,front),!legacy",
        "--restore-volumes=false",
        "--preserve-nodeports",
        "--existing-resource-policy", "update",
        "--status-include-resources", "widgets.example.com",
        "--item-operation-timeout", "1h30m",
        "--resource-modifier-configmap", "modifiers",
        "--write-sparse-files",
        "--parallel-files-download", "4",
        "--kubeconfig", "/tmp/kubeconfig",
        "--context", "dr",
    )  # fmt: skip
    assert restore["kind"] == "Restore"
    assert restore["metadata"] == {"name": "r1", "labels": {"team": "shop", "tier": "gold"}}
    spec = restore["spec"]
    assert spec["backupName"] == "demo-backup" and spec["storageLocation"] == bsl.url
    assert spec["includedNamespaces"] == ["shop", "web", "db"]
    assert spec["excludedNamespaces"] == ["kube-system"]
    assert spec["includedResources"] == ["pods", "deployments.apps"]
    assert spec["excludedResources"] == ["secrets"]
    assert spec["includeClusterResources"] is True
    assert spec["namespaceMapping"] == {"shop": "shop-copy", "web": "web-copy"}
    assert spec["labelSelector"] == {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["db", "front"]},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert spec["restorePVs"] is False and spec["preserveNodePorts"] is True
    assert spec["existingResourcePolicy"] == "update"
    assert spec["restoreStatus"] == {"includedResources": ["widgets.example.com"], "excludedResources": []}
    assert spec["itemOperationTimeout"] == "1h30m"
    assert spec["resourceModifier"] == {"kind": "ConfigMap", "name": "modifiers"}
    assert spec["uploaderConfig"] == {"writeSparseFiles": True, "parallelFilesDownload": 4}
    assert spec["target"] == {"kubeconfig": "/tmp/kubeconfig", "context": "dr"}


def test_or_selector_and_schedule(cli, bsl: BackupStorage) -> None:
    spec = _printed(
        cli,
        "--from-schedule",
        "nightly",
        "--or-selector",
        "app=web or tier=db",
        "--storage-location",
        bsl.url,
    )["spec"]
    assert spec["scheduleName"] == "nightly" and spec["backupName"] is None
    assert spec["orLabelSelectors"] == [{"matchLabels": {"app": "web"}}, {"matchLabels": {"tier": "db"}}]


def test_allow_partially_failed_picks_the_backup(cli, bsl: BackupStorage) -> None:
    spec = _printed(
        cli, "--from-schedule", "nightly", "--allow-partially-failed", "--storage-location", bsl.url
    )["spec"]
    assert spec["backupName"] == "nightly-20261124010000" and spec["scheduleName"] is None


def test_default_name_is_source_and_timestamp(cli, bsl: BackupStorage) -> None:
    name = _printed(cli, "--from-backup", "demo-backup", "--storage-location", bsl.url)["metadata"]["name"]
    assert name.startswith("demo-backup-") and len(name) == len("demo-backup-") + 14


def _plan(tmp_path: Path, bsl: BackupStorage, **spec: object) -> Path:
    document = {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "shop-drill"},
        "spec": {
            "source": {"storageLocation": bsl.url, "scheduleName": "nightly"},
            "includedNamespaces": ["shop"],
            **spec,
        },
    }
    path = tmp_path / "plan.yaml"
    yaml = YAML(typ="safe")
    with path.open("w") as handle:
        yaml.dump(document, handle)
    return path


def test_flags_override_the_plan(cli, bsl: BackupStorage, tmp_path: Path) -> None:
    plan = _plan(tmp_path, bsl, namespaceMapping={"shop": "shop-drill"})
    restore = _printed(
        cli, "--plan", str(plan), "--from-backup", "demo-backup", "--namespace-mappings", "shop:other"
    )
    assert restore["metadata"]["name"].startswith("shop-drill-")
    spec = restore["spec"]
    assert spec["plan"] == "shop-drill"
    assert spec["backupName"] == "demo-backup" and spec["scheduleName"] is None
    assert spec["includedNamespaces"] == ["shop"]
    assert spec["namespaceMapping"] == {"shop": "other"}
    assert spec["timeouts"]["fsBackupRestore"] == "4h0m0s"  # the plan's defaults are filled in


def test_group_flags_set_one_field_of_the_plans_group(cli, bsl: BackupStorage, tmp_path: Path) -> None:
    """--fs-backup-timeout and --velero-namespace change one field of the plan's timeouts and transforms."""
    plan = _plan(
        tmp_path, bsl, timeouts={"crdAvailable": "2m"}, transforms={"storageClassMapping": {"a": "b"}}
    )
    flags = ("--fs-backup-timeout", "30m", "--velero-namespace", "ops")
    spec = _printed(cli, "--plan", str(plan), *flags)["spec"]
    assert spec["timeouts"]["fsBackupRestore"] == "30m" and spec["timeouts"]["crdAvailable"] == "2m0s"
    transforms = spec["transforms"]
    assert transforms["veleroNamespace"] == "ops" and transforms["storageClassMapping"] == {"a": "b"}
    assert transforms["honorVeleroConfigMaps"] is False  # a plan says so itself
    alone = _printed(cli, "--from-backup", "demo-backup", "--storage-location", bsl.url)["spec"]
    assert alone["transforms"]["honorVeleroConfigMaps"] is True  # Velero's flags alone: as Velero


def test_table_output_is_a_new_restore(cli, bsl: BackupStorage) -> None:
    run = cli(
        "restore",
        "create",
        "r2",
        "--from-backup",
        "demo-backup",
        "--storage-location",
        bsl.url,
        "-o",
        "table",
    )
    assert run.out.splitlines()[1].split()[:4] == ["r2", "demo-backup", "New", "<nil>"]
    yaml_run = cli(
        "restore", "create", "r2", "--from-backup", "demo-backup", "--storage-location", bsl.url, "-o", "yaml"
    )
    assert YAML(typ="safe").load(yaml_run.out)["metadata"]["name"] == "r2"
    assert not bsl.restores.exists("r2")


def test_velero_flag_errors(cli, bsl: BackupStorage) -> None:
    location = ("--storage-location", bsl.url)
    cases = {
        (
            "--from-backup",
            "a",
            "--from-schedule",
            "b",
        ): "either a backup or schedule must be specified, but not both",
        (): "either a backup or schedule must be specified, but not both",
        ("--from-backup", "a", "-l", "a=b", "--or-selector", "c=d"): (
            "either a 'selector' or an 'or-selector' can be specified, but not both"
        ),
        ("--from-backup", "a", "--existing-resource-policy", "replace"): (
            "existing-resource-policy has invalid value, it accepts only none, update as value"
        ),
        ("Bad_Name", "--from-backup", "a"): 'invalid restore name "Bad_Name"',
        ("--from-backup", "a", "-l", "a in ("): "invalid label selector 'a in ('",
        ("--from-backup", "a", "--labels", "team=shop web"): (
            'invalid restore labels: metadata.labels: Invalid value: "shop web": a valid label must be'
        ),
    }
    for argv, message in cases.items():
        run = cli("restore", "create", *argv, *location)
        assert run.code == 1, argv
        assert run.err.startswith(f"error: {message}"), (argv, run.err)


def test_unknown_backup_and_schedule(cli, bsl: BackupStorage) -> None:
    run = cli("restore", "create", "r3", "--from-backup", "nope", "--storage-location", bsl.url)
    assert run.code == 1
    assert run.err.strip() == f'error: backup "nope" not found in backup storage location {bsl.url}'
    run = cli("restore", "create", "r3", "--from-schedule", "weekly", "--storage-location", bsl.url)
    assert run.code == 1 and "No backups found for schedule" in run.err


def test_unreachable_storage_location(cli, tmp_path: Path) -> None:
    run = cli("restore", "create", "--from-backup", "a", "--storage-location", str(tmp_path / "gone"))
    assert run.code == 1 and "is unreachable" in run.err


def test_invalid_plan_lists_problems_with_positions(cli, tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text(
        "apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata: {name: bad}\nspec:\n"
        "  source: {storageLocation: x, backupName: b}\n  existingResourcePolicy: replace\n"
    )
    run = cli("restore", "create", "--plan", str(plan))
    assert run.code == 1
    assert run.err.startswith("error: invalid restore plan:\n")
    assert f"{plan}:6:" in run.err and "existingResourcePolicy" in run.err
    run = cli("restore", "create", "--plan", str(tmp_path / "missing.yaml"))
    assert run.code == 1 and "missing.yaml" in run.err


def test_an_existing_restore_name_is_refused(cli, bsl: BackupStorage) -> None:
    before = bsl.restores.get("shop-restore")
    run = cli(
        "restore", "create", "shop-restore", "--from-backup", "demo-backup", "--storage-location", bsl.url
    )
    assert run.code == 1 and run.out == ""
    assert (
        run.err.strip()
        == f'error: restore "shop-restore" already exists in backup storage location {bsl.url}'
    )
    assert bsl.restores.get("shop-restore") == before
    assert bsl.restores.logs("shop-restore").startswith('time="2026-11-25T10:00:01Z"')
