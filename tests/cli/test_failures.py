"""Every failure a user can cause, through the installed command: one clear message naming the file,
object or setting, the documented exit code (1), no traceback, and nothing started or recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.sandbox import Sandbox
from tests.backup.tarballs import entry, put_file, tar_gz

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))


def restoreflow(*argv: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command with no Prefect configuration and a restoreflow home of the test's own."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RESTOREFLOW_", "KUBECONFIG"))
    }
    clean |= {"RESTOREFLOW_HOME": str(home), "HOME": str(home), **env}
    return subprocess.run([RESTOREFLOW, *argv], env=clean, capture_output=True, text=True, timeout=300)


def refused(run: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 1, the message on stderr, no traceback, and nothing submitted or started."""
    assert run.returncode == 1, run.stdout + run.stderr
    assert message in run.stderr, run.stderr
    assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr
    assert "submitted" not in run.stdout and "Starting" not in run.stderr


def create(bsl: BackupStorage, *extra: str) -> list[str]:
    return ["restore", "create", "r1", "--from-backup", "demo-backup", "--storage-location", bsl.url, *extra]


def test_a_missing_kubeconfig_is_named(bsl: BackupStorage, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "kubeconfig"
    refused(
        restoreflow(*create(bsl, "--kubeconfig", str(missing)), home=tmp_path), f"kubeconfig file {missing}"
    )
    from_env = restoreflow(*create(bsl), home=tmp_path, KUBECONFIG=str(missing))
    refused(from_env, f"kubeconfig file {missing} (KUBECONFIG) does not exist")
    refused(
        restoreflow(*create(bsl), home=tmp_path), f"kubeconfig file {tmp_path}/.kube/config does not exist"
    )
    assert not bsl.restores.exists("r1")


def test_an_unknown_context_is_named_with_the_ones_there_are(
    bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = restoreflow(*create(bsl, "--kubeconfig", sandbox.kubeconfig, "--context", "dr"), home=tmp_path)
    refused(run, f'context "dr" not found in kubeconfig {sandbox.kubeconfig} (contexts: ')


def test_an_api_server_that_does_not_answer(bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path) -> None:
    dead = tmp_path / "dead-kubeconfig"
    port = sandbox.url.rsplit(":", 1)[1]
    dead.write_text(Path(sandbox.kubeconfig).read_text().replace(f":{port}", ":1"))
    run = restoreflow(*create(bsl, "--kubeconfig", str(dead)), home=tmp_path)
    refused(run, "the API server at http://127.0.0.1:1 cannot be reached: ")
    assert not bsl.restores.exists("r1")


def test_a_missing_backup_storage_or_plan(bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path) -> None:
    kubeconfig = ["--kubeconfig", sandbox.kubeconfig]
    run = restoreflow(
        "restore",
        "create",
        "--from-backup",
        "nope",
        "--storage-location",
        bsl.url,
        *kubeconfig,
        home=tmp_path,
    )
    refused(run, 'backup "nope"')
    run = restoreflow("restore", "create", "--from-backup", "demo-backup", *kubeconfig, home=tmp_path)
    refused(
        run, "no backup storage location: pass --storage-location URL or set RESTOREFLOW_STORAGE_LOCATION"
    )
    gone = tmp_path / "gone"
    run = restoreflow(
        "restore", "create", "--from-backup", "b", "--storage-location", str(gone), home=tmp_path
    )
    refused(run, f"backup storage location {gone} is unreachable")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata: {name: p}\nspec:\n  bogus: 1\n"
    )
    refused(restoreflow("restore", "create", "--plan", str(plan), home=tmp_path), f"{plan}:5:3: spec.bogus")


def test_a_prefect_api_that_does_not_answer(bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path) -> None:
    run = restoreflow(
        *create(bsl, "--kubeconfig", sandbox.kubeconfig),
        home=tmp_path,
        PREFECT_API_URL="http://127.0.0.1:1/api",
    )
    refused(run, "the Prefect API at http://127.0.0.1:1/api (PREFECT_API_URL) does not answer")
    assert not bsl.restores.exists("r1")


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.sandbox(velero_crds=True)
def test_an_invalid_backup_fails_once_with_its_reason_and_no_traceback(
    bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The archive escapes its folder: the restore is refused, Failed, reported in one line, never
    retried (the plan allows two attempts per phase)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL

    BackupBuilder("hostile").write(bsl)
    put_file(
        bsl,
        bsl.archive_path("hostile"),
        tar_gz(entry("metadata/version", "1.1.0\n"), entry("../../escaped.txt", "x")),
    )
    argv = ["restore", "create", "hostile-1", "--from-backup", "hostile", "--storage-location", bsl.url]
    run = restoreflow(
        *argv,
        "--kubeconfig",
        sandbox.kubeconfig,
        "--wait",
        home=tmp_path,
        PREFECT_API_URL=PREFECT_API_URL.value(),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Restore completed with status: Failed." in run.stdout
    assert (
        "Failure reason: backup archive " in run.stdout
        and '"../../escaped.txt": escapes target directory' in run.stdout
    )
    assert "Traceback" not in run.stdout + run.stderr and run.stderr == "", run.stderr
    assert not (tmp_path.parent / "escaped.txt").exists()

    flow_run_id = bsl.restores.get("hostile-1")["status"]["flowRunId"]
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    fetch = [r for r in runs if r.name == "fetch backup"]
    assert len(fetch) == 1 and fetch[0].run_count == 1  # tried once


def test_a_backup_name_that_is_a_path_is_refused_at_its_place(
    bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    """`team/nightly` or `../x` would address another folder of the storage location: refused as a
    plan error, placed, before the storage location, the cluster or Prefect is contacted."""
    subdomain = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters"
    for flag, value in (("--from-backup", "../outside"), ("--from-schedule", "team/nightly")):
        argv = ["restore", "create", "r1", flag, value, "--storage-location", bsl.url]
        run = restoreflow(*argv, "--kubeconfig", sandbox.kubeconfig, home=tmp_path)
        field = "backupName" if flag == "--from-backup" else "scheduleName"
        refused(run, f'<flags>: spec.source.{field}: Invalid value: "{value}": {subdomain}')
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata: {name: drill}\nspec:\n"
        f"  source:\n    storageLocation: {bsl.url}\n    backupName: team/demo-backup\n"
        f"  target: {{kubeconfig: {sandbox.kubeconfig}}}\n"
    )
    for argv in (["plan", "validate", str(plan)], ["restore", "create", "r1", "--plan", str(plan)]):
        run = restoreflow(*argv, home=tmp_path)
        assert f'{plan}:7:17: spec.source.backupName: Invalid value: "team/demo-backup": {subdomain}' in (
            run.stdout + run.stderr
        )
        assert run.returncode == 1 and "Traceback" not in run.stderr
    assert not bsl.restores.exists("r1") and sandbox.requests() == []
    assert not (tmp_path / "prefect").exists()  # no Prefect server started
