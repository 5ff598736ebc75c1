"""The flow's dry run (a preview with its artifacts) and its verify phase, on a real Prefect server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import StateType

from restoreflow.backup import BackupStorage
from restoreflow.orchestration import restore
from restoreflow.sandbox import Sandbox
from tests.flow.harness import plan_document, unique, yaml_text
from tests.flow.test_flow import flow_run_id, task_runs

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]


def artifacts(state: Any) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id(state)]))
        )
    return {a.key: a for a in found}


def test_a_dry_run_previews_writes_nothing_and_publishes_a_table_and_a_report(
    sandbox: Sandbox, storage: BackupStorage
) -> None:
    name = unique("shop")
    plan = yaml_text(plan_document(storage.url, sandbox.kubeconfig))

    state = restore(plan=plan, restore_name=name, dry_run=True, return_state=True)

    assert state.type == StateType.COMPLETED, state.message
    assert state.message.startswith(f"preview of restore {name}: ")
    assert state.message.endswith("; nothing was written")
    assert [r.name for r in task_runs(state, expected=1)] == ["preview"]
    found = artifacts(state)
    table = json.loads(found[f"restore-{name}-preview"].data)
    assert table[-1]["resource"] == "total" and table[-1]["create"] > 0
    report = found[f"restore-{name}-preview-report"].data
    assert report.startswith(f"# Preview of restore {name}\n")
    assert sandbox.get("deployments.apps", "web", namespace="shop") is None
    assert not storage.restores.exists(name)


def test_the_verify_phase_gives_the_drill_its_verdict(sandbox: Sandbox, storage: BackupStorage) -> None:
    name = unique("shop")
    plan = yaml_text(
        plan_document(storage.url, sandbox.kubeconfig, verify={"workloads": True, "timeout": "20s"})
    )

    state = restore(plan=plan, restore_name=name, return_state=True)

    assert state.type == StateType.COMPLETED, state.message
    names = [r.name for r in task_runs(state)]
    assert names[-2:] == ["verify", "finalize"]
    verdict = storage.restores.get(name)["status"]["verification"]
    assert verdict["phase"] == "Passed" and verdict["objectsChecked"] > 0
    report = artifacts(state)[f"restore-{name}-verification"].data
    assert report.startswith(f"# Verification of restore {name}: Passed\n")
