"""prefect.yaml: `prefect deploy --all` against a Prefect server, then a restore through a process worker."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from prefect import get_client

from restoreflow.backup import BackupStorage, sample_backup
from restoreflow.cli import main
from restoreflow.sandbox import Sandbox
from tests.flow.harness import PREFECT, REPO, deploy_all, plan_document, prefect_env, unique, write_plan

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]


def test_deploy_all_creates_the_deployments() -> None:
    deploy_all()
    with get_client(sync_client=True) as client:
        on_demand = client.read_deployment_by_name("restore/restore")
        drill = client.read_deployment_by_name("restore/nightly-dr-drill")
    assert on_demand.entrypoint == "flows/restore.py:restore" and on_demand.work_pool_name == "local"
    assert drill.parameters == {"plan": "plans/nightly-dr-drill.yaml"}
    assert [s.schedule.cron for s in drill.schedules] == ["30 2 * * *"]
    # `{{ $PWD }}` is the working copy `prefect deploy` ran in
    assert drill.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}]


def test_restore_through_a_process_worker(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_all()
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    sample_backup(storage, "demo-backup")
    plan = write_plan(tmp_path / "plan.yaml", plan_document(storage.url, sandbox.kubeconfig))
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "local"],
        cwd=REPO,
        env=prefect_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        name = unique("deployed")
        code = main(
            ["restore", "create", name, "--plan", str(plan), "--deployment", "restore/restore", "--wait"]
        )
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker slowed by a busy machine may not stop in time
            worker.kill()
            worker.wait()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "created from deployment restore/restore." in out
    assert "Restore completed with status: Completed." in out
    record = storage.restores.get(name)
    assert record["status"]["phase"] == "Completed"
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(record["status"]["flowRunId"])
    assert flow_run.name == name and flow_run.state.name == "Completed"
