"""Retrying a failed restore flow run resumes it: the resource groups an earlier attempt restored are
Cached (their outcome is taken from Prefect's result storage), only the others are restored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL, PREFECT_LOCAL_STORAGE_PATH
from prefect.states import AwaitingRetry

from restoreflow.backup import BackupStorage
from restoreflow.orchestration import restore
from restoreflow.sandbox import Sandbox
from tests.flow.harness import plan_document, unique, yaml_text
from tests.flow.test_flow import flow_run_id, task_runs

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]

REPO = Path(__file__).resolve().parents[2]
NO_RETRIES = {"api": {"attempts": 1}, "phases": {"attempts": 1}}  # a failed create fails its item
ONE_RUN = {"created": 17, "updated": 0, "skipped": 1, "failed": 0}  # the sample restored in one go
CONFIGMAPS = "restore configmaps: 1 item"


def plan_text(storage: BackupStorage, sandbox: Sandbox) -> str:
    return yaml_text(plan_document(storage.url, sandbox.kubeconfig, retries=NO_RETRIES))


def groups_of_attempt(runs: list[Any], attempt: int) -> dict[str, str]:
    """The attempt's resource group task runs: name -> state name (Completed, Cached...)."""
    return {
        r.name: r.state.name
        for r in runs
        if r.name.startswith("restore ") and r.flow_run_run_count == attempt
    }


def creates(sandbox: Sandbox) -> list[tuple[str, int]]:
    """The create requests of the sandbox's log: resource and answer (201 created, 409 existed...)."""
    return [
        (r["resource"], r["code"]) for r in sandbox.requests() if r["verb"] == "create" and not r["dry_run"]
    ]


def assert_restored_once(storage: BackupStorage, name: str) -> None:
    """The record reads as if the restore had run once: every item created (the PV is provisioned)."""
    status = storage.restores.get(name)["status"]
    assert status["phase"] == "Completed" and status["counts"] == ONE_RUN
    assert storage.restores.results(name) == {"warnings": {}, "errors": {}}
    listing = [entry for entries in storage.restores.resource_list(name).values() for entry in entries]
    assert len(listing) == 18 and [e for e in listing if not e.endswith("(created)")] == [
        "pvc-7538aaa9-b58b-5ff3-b424-55527ffb2055(skipped)"
    ]


def test_flow_retries_resume_after_the_groups_restored_before(
    sandbox: Sandbox, storage: BackupStorage
) -> None:
    sandbox.add_fault("verb=create,resource=configmaps,count=1,code=500")  # the first attempt only
    name = unique("resume")
    state = restore.with_options(retries=1)(
        plan=plan_text(storage, sandbox), restore_name=name, return_state=True
    )

    assert state.name == "Completed"
    runs = task_runs(state)
    first, second = groups_of_attempt(runs, 1), groups_of_attempt(runs, 2)
    assert len(first) == 15 and set(first.values()) == {"Completed"}
    assert second == {group: "Cached" for group in first} | {CONFIGMAPS: "Completed"}
    made = creates(sandbox)
    assert [c for c in made if c[0] == "configmaps"] == [("configmaps", 500), ("configmaps", 201)]
    assert not [c for c in made if c[1] == 409], "the retry created again what the first attempt had"
    assert_restored_once(storage, name)


def test_retrying_a_failed_run_as_the_ui_does_resumes_it_in_a_new_process(
    sandbox: Sandbox, storage: BackupStorage
) -> None:
    sandbox.add_fault("verb=create,resource=configmaps,code=500")
    name = unique("resume")
    first = restore(plan=plan_text(storage, sandbox), restore_name=name, return_state=True)
    assert first.name == "PartiallyFailed"
    sandbox.clear_faults()  # the cause is fixed, then the run is retried
    sandbox.clear_requests()
    run_id = flow_run_id(first)
    outcomes = Path(PREFECT_LOCAL_STORAGE_PATH.value()) / "restoreflow" / str(run_id)
    assert len(list(outcomes.iterdir())) == 14  # every group but the failed configmaps
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, AwaitingRetry(message="Retry from the UI"), force=True)
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT__FLOW_RUN_ID": str(run_id)}
    # what a process worker does with the rescheduled run: Prefect's flow engine in a new process
    engine = [sys.executable, "-m", "prefect.flow_engine", "flows/restore.py:restore"]
    ran = subprocess.run(engine, cwd=REPO, env=env, timeout=180, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-4000:]

    with get_client(sync_client=True) as client:
        retried = client.read_flow_run(run_id)
    assert retried.state.type == StateType.COMPLETED and retried.run_count == 2
    runs = task_runs(retried.state)
    first_groups, second_groups = groups_of_attempt(runs, 1), groups_of_attempt(runs, 2)
    assert second_groups == {group: "Cached" for group in first_groups} | {CONFIGMAPS: "Completed"}
    assert creates(sandbox) == [("configmaps", 201)]
    assert_restored_once(storage, name)
    assert not outcomes.exists()  # a Completed run is never retried: its outcomes are dropped
