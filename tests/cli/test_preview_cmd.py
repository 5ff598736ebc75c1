"""`restoreflow plan preview` and `restoreflow restore verify`, as a user runs them against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.cluster import Cluster
from restoreflow.plan import load_plan
from restoreflow.plan.model import Target
from restoreflow.restore import run_restore
from tests.engine.helpers import BACKUP, configmap, kube_object, make_plan, namespace, secret, write_backup
from tests.flow.harness import plan_document, unique, write_plan


@pytest.fixture
def plan_file(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [namespace("shop"), configmap("settings", "shop", data={"mode": "prod"}), secret("db", "shop")],
    )
    path = tmp_path / "shop.yaml"
    path.write_text(
        "apiVersion: restoreflow.dev/v1alpha1\n"
        "kind: RestorePlan\n"
        "metadata: {name: shop}\n"
        "spec:\n"
        f"  source: {{storageLocation: {location}, backupName: {BACKUP}}}\n"
        f"  target: {{kubeconfig: {sandbox.kubeconfig}}}\n"
        "  existingResourcePolicy: update\n"
    )
    return path, location


def test_plan_preview_prints_the_decisions_and_writes_nothing(cli, sandbox, plan_file):
    path, _ = plan_file
    sandbox.load(
        [
            namespace("shop"),
            kube_object("v1", "Secret", "db", "shop", type="Opaque", data={"password": "b2xk"}),
        ]
    )

    run = cli("plan", "preview", str(path), "--details", "--diff")

    assert run.code == 0, run.err
    assert run.out.startswith(f"Preview of restore shop-preview (backup {BACKUP}): nothing was written.\n")
    assert "RESOURCE    CREATE  UPDATE  SKIP\n" in run.out
    assert (
        "  update        secrets/shop/db  (exists, differs: patched (existingResourcePolicy: update))\n"
        in run.out
    )
    assert '  patch: {"data": {"password": "<redacted>"}, "metadata": {"labels": ' in run.out
    assert "  create        configmaps/shop/settings\n" in run.out
    assert "-  password: <redacted>\n+  password: '<redacted: differs>'\n" in run.out
    assert "b2xk" not in run.out and "czNjcjN0" not in run.out
    assert sandbox.get("configmaps", "settings", "shop") is None


def test_plan_preview_as_json_for_scripts(cli, sandbox, plan_file):
    path, _ = plan_file

    run = cli("plan", "preview", str(path), "-o", "json")

    document = json.loads(run.out)
    assert document["totals"] == {"create": 3}
    assert document["summary"]["configmaps"] == {"create": 1}
    assert "items" not in document


def test_plan_preview_of_a_missing_backup_is_a_clear_error(cli, sandbox, plan_file):
    path, _ = plan_file

    run = cli("plan", "preview", str(path), "--backup", "nope")

    assert run.code == 1
    assert (
        'error: the restore would fail validation:\n  Error retrieving backup: backup "nope" not found'
        in run.err
    )


def test_restore_verify_reports_what_changed_since_the_restore(cli, sandbox, plan_file):
    path, location = plan_file
    result = run_restore(load_plan(path), restore_name="drill")
    assert result.phase == "Completed", result.results

    passed = cli("restore", "verify", "drill", "--storage-location", location)
    Cluster.for_target(Target(kubeconfig=str(sandbox.kubeconfig))).patch(
        "configmaps", "settings", {"data": {"mode": "dev"}}, "shop"
    )
    failed = cli("restore", "verify", "drill", "--storage-location", location)

    assert passed.code == 0, passed.err
    assert passed.out == (
        "Verification of restore drill: Passed\n"
        "Objects checked: 3, missing or changed: 0\n"
        "Workloads checked: 0, not ready: 0\n"
    )
    assert failed.code == 1
    assert failed.out.startswith(
        "Verification of restore drill: Failed (1 of 3 restored objects missing or changed)\n"
        "Objects checked: 3, missing or changed: 1\n"
        "  configmaps/shop/settings changed: data.mode\n"
    )
    assert "    -  mode: dev\n    +  mode: prod\n" in failed.out


def test_restore_verify_of_an_unknown_restore(cli, plan_file):
    _, location = plan_file

    run = cli("restore", "verify", "nope", "--storage-location", location)

    assert (run.code, run.err) == (1, 'error: Restore "nope" does not exist.\n')


def test_create_dry_run_with_veleros_flags_writes_nothing(cli, sandbox, plan_file):
    _, location = plan_file

    run = cli(
        "restore", "create", "look",
        "--from-backup", BACKUP,
        "--storage-location", location,
        "--kubeconfig", str(sandbox.kubeconfig),
        "--namespace-mappings", "shop:shop-2",
        "--dry-run", "-o", "yaml",
    )  # fmt: skip

    assert run.code == 0, run.err
    assert "totals:\n  create: 3\n" in run.out
    assert sandbox.get("namespaces", "shop-2") is None
    assert not BackupStorage.open(location).restores.exists("look")


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.sandbox(velero_crds=True)
def test_create_with_verify_records_the_verdict(cli, bsl, sandbox, tmp_path):
    plan = write_plan(tmp_path / "plan.yaml", plan_document(bsl.url, sandbox.kubeconfig))
    name = unique("verified")

    run = cli("restore", "create", name, "--plan", str(plan), "--verify", "--wait")

    assert run.code == 0, run.out + run.err
    verdict = bsl.restores.get(name)["status"]["verification"]
    assert verdict["phase"] == "Passed" and verdict["workloadsChecked"] > 0


def test_restore_verify_rebuilds_the_plan_from_the_record(cli, sandbox, plan_file):
    _, location = plan_file
    plan = make_plan(sandbox, location, namespace_mapping={"shop": "shop-2"})
    assert run_restore(plan, restore_name="mapped").phase == "Completed"

    run = cli("restore", "verify", "mapped", "--storage-location", location)

    assert run.code == 0, run.out + run.err
    assert "Objects checked: 3, missing or changed: 0\n" in run.out


def test_plan_preview_of_a_corrupt_archive_is_a_clear_error(cli, plan_file):
    path, location = plan_file
    Path(BackupStorage.open(location).archive_path(BACKUP)).write_bytes(b"not a gzip file")

    run = cli("plan", "preview", str(path))

    assert run.code == 1
    assert run.err.startswith("error: the preview stopped: ")
    assert "Traceback" not in run.err
