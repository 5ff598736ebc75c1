"""The `restore` flow end to end: real Prefect server, real sandbox API server, real backups."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import StateType
from prefect.states import State

from restoreflow.backup import BackupStorage, sample_application
from restoreflow.backup.builder import BackupBuilder
from restoreflow.orchestration import restore
from restoreflow.sandbox import Sandbox
from tests.flow.harness import plan_document, unique, yaml_text

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]

PHASES_BEFORE = ["validate", "fetch backup", "prepare"]
PHASES_AFTER = ["volumes", "hooks", "finalize"]


def run(storage: BackupStorage, sandbox: Sandbox, name: str, **spec: Any) -> State:
    plan = yaml_text(plan_document(storage.url, sandbox.kubeconfig, **spec))
    return restore(plan=plan, restore_name=name, return_state=True)


def flow_run_id(state: State) -> UUID:
    return state.state_details.flow_run_id


def task_runs(state: State, expected: int | None = None) -> list[Any]:
    """The flow run's task runs, once the server recorded all of them as finished."""
    run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id(state)]))
    deadline = time.monotonic() + 15
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=run_filter)
            done = all(r.state and r.state.is_final() for r in runs)
            if (done and (expected is None or len(runs) >= expected)) or time.monotonic() > deadline:
                return sorted(runs, key=lambda r: r.start_time or r.expected_start_time)
            time.sleep(0.2)


def events_of(name: str, minimum: int) -> list[dict[str, Any]]:
    """The restore's events as the server stored them (written asynchronously: poll briefly)."""
    query = {"filter": {"resource": {"id": [f"restoreflow.restore.{name}"]}}, "limit": 50}
    deadline = time.monotonic() + 15
    with get_client(sync_client=True) as client:
        while True:
            events = client._client.post("/events/filter", json=query).json()["events"]
            if len(events) >= minimum or time.monotonic() > deadline:
                return sorted(events, key=lambda e: e["occurred"])
            time.sleep(0.3)


def test_completed_restore_shows_every_phase_and_group(sandbox: Sandbox, storage: BackupStorage) -> None:
    name = unique("shop")
    state = run(storage, sandbox, name)
    assert state.type == StateType.COMPLETED and state.name == "Completed"
    assert state.message.startswith(f"restore {name} Completed: ")
    runs = task_runs(state, expected=len(PHASES_BEFORE) + len(PHASES_AFTER) + 1)
    names = [r.name for r in runs]
    assert names[:3] == PHASES_BEFORE and names[-3:] == PHASES_AFTER
    groups = names[3:-3]
    assert groups[0] == "restore customresourcedefinitions.apiextensions.k8s.io: 1 item"
    assert "restore namespaces: 1 item" in groups and "restore pods: 2 items" in groups
    assert all(r.state.type == StateType.COMPLETED for r in runs)
    assert all(r.start_time and r.end_time for r in runs)  # each phase has its own duration
    record = storage.restores.get(name)
    assert record["metadata"]["name"] == name
    assert record["status"]["phase"] == "Completed"
    assert record["status"]["flowRunId"] == str(flow_run_id(state))
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(flow_run_id(state)).name == name
    assert sandbox.get("deployments.apps", "web", namespace="shop") is not None


def test_artifacts_and_events(sandbox: Sandbox, storage: BackupStorage) -> None:
    name = unique("shop")
    state = run(storage, sandbox, name)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id(state)]))
        )
    by_key = {a.key: a for a in artifacts}
    progress = by_key[f"restore-{name}-progress"]
    assert progress.type == "progress" and float(progress.data) == 100.0
    summary = by_key[f"restore-{name}-summary"]
    assert summary.type == "table"
    assert '"resource": "v1/Namespace"' in summary.data and '"resource": "total"' in summary.data
    describe = by_key[f"restore-{name}-describe"]
    assert describe.type == "markdown" and "Phase:" in describe.data and "Resource List:" in describe.data
    link = by_key[f"restore-{name}-record"]
    assert link.type == "markdown" and storage.restores.url(name) in link.data

    phases = ["validate", "fetch", "prepare", "restore", "volumes", "hooks", "finalize"]
    expected = ["started", *(f"phase.{p}" for p in phases), "finished.Completed"]
    events = events_of(name, len(expected))
    assert [e["event"].removeprefix("restoreflow.restore.") for e in events] == expected
    related = {r["prefect.resource.role"]: r["prefect.resource.id"] for r in events[-1]["related"]}
    assert related["backup"] == "restoreflow.backup.demo-backup"
    assert related["target"].startswith("restoreflow.target.")
    assert related["flow-run"] == f"prefect.flow-run.{flow_run_id(state)}"


def test_partially_failed_is_a_named_state(sandbox: Sandbox, storage: BackupStorage) -> None:
    sandbox.add_fault("verb=create,resource=configmaps,code=500")
    name = unique("shop")
    state = run(storage, sandbox, name, retries={"api": {"attempts": 1}, "phases": {"attempts": 1}})
    assert state.type == StateType.FAILED and state.name == "PartiallyFailed"
    assert "1 failed" in state.message
    assert storage.restores.get(name)["status"]["phase"] == "PartiallyFailed"
    assert sandbox.get("deployments.apps", "web", namespace="shop") is not None


def test_an_invalid_backup_is_tried_once(sandbox: Sandbox, storage: BackupStorage) -> None:
    """A retry cannot fix a bad archive: the fetch phase fails once, though the plan allows two."""
    archive = Path(storage.archive_path("demo-backup"))
    archive.write_bytes(b"not a gzip file")
    name = unique("shop")
    state = run(storage, sandbox, name)
    assert state.type == StateType.FAILED and state.name == "Failed"
    runs = {r.name: r for r in task_runs(state, expected=3)}
    assert runs["fetch backup"].run_count == 1
    assert runs["fetch backup"].state.type == StateType.FAILED
    assert "prepare" not in runs
    status = storage.restores.get(name)["status"]
    assert status["phase"] == "Failed" and "demo-backup.tar.gz" in status["failureReason"]


def test_invalid_plan_parameter_fails_validation_with_positions() -> None:
    plan = (
        "apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata: {name: bad}\n"
        "spec:\n  source: {storageLocation: x, backupName: b}\n  existingResourcePolicy: replace\n"
        "  includedNamespaces: '*'\n"
    )
    state = restore(plan=plan, return_state=True)
    assert state.type == StateType.FAILED and state.name == "FailedValidation"
    assert state.message.startswith("invalid restore plan:\n")
    assert "<plan parameter>:6:" in state.message and "existingResourcePolicy" in state.message
    assert "<plan parameter>:7:" in state.message


def test_unknown_backup_fails_validation(sandbox: Sandbox, storage: BackupStorage) -> None:
    name = unique("shop")
    plan = yaml_text(plan_document(storage.url, sandbox.kubeconfig))
    state = restore(plan=plan, restore_name=name, backup_name="nope", return_state=True)
    assert state.name == "FailedValidation"
    assert f'backup "nope" not found in backup storage location {storage.url}' in state.message
    assert storage.restores.get(name)["status"]["phase"] == "FailedValidation"


def test_a_backup_name_parameter_that_is_a_path_fails_validation(
    sandbox: Sandbox, storage: BackupStorage
) -> None:
    """The deployment's event trigger passes `{{ event.resource.name }}`: never a path in the BSL."""
    name = unique("shop")
    plan = yaml_text(plan_document(storage.url, sandbox.kubeconfig))
    state = restore(plan=plan, restore_name=name, backup_name="../other/nightly", return_state=True)
    assert state.name == "FailedValidation"
    assert 'invalid backup name: Invalid value: "../other/nightly": a lowercase RFC 1123' in state.message
    record = storage.restores.get(name)["status"]
    assert record["phase"] == "FailedValidation" and "../other/nightly" in record["validationErrors"][0]


def test_timeout_stops_a_stuck_volume_wait(sandbox: Sandbox, tmp_path: Path) -> None:
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    app = sample_application("shop")
    annotations = app.find("Pod", "toolbox")["metadata"]["annotations"]
    annotations["sandbox.restoreflow.dev/pod-volume-restore"] = "hang"
    annotations["post.hook.restore.velero.io/wait-timeout"] = "1s"  # the hook cannot run in a stuck pod
    app.add_to(BackupBuilder("demo-backup", included_namespaces=["shop"])).write(storage)
    name = unique("shop")
    started = time.monotonic()
    state = run(storage, sandbox, name, timeouts={"fsBackupRestore": "2s"})
    assert time.monotonic() - started < 30
    assert state.name == "PartiallyFailed"
    volumes = {r.name: r for r in task_runs(state)}["volumes"]
    assert volumes.state.type == StateType.COMPLETED
    assert (volumes.end_time - volumes.start_time).total_seconds() < 10
    velero_errors = storage.restores.results(name)["errors"]["velero"]
    assert (
        "pod shop/toolbox volume cache: timed out waiting for all PodVolumeRestores to complete"
        in velero_errors
    )


def _target_window(state: State) -> tuple[Any, Any]:
    """When a restore held its target: from its first resource group to its hooks."""
    runs = [r for r in task_runs(state) if r.name.startswith("restore ") or r.name in ("volumes", "hooks")]
    return min(r.start_time for r in runs), max(r.end_time for r in runs)


def test_one_restore_at_a_time_per_target_namespace(sandbox: Sandbox, storage: BackupStorage) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sandbox.add_fault("verb=create,latency=0.05")  # long enough to overlap if nothing stopped it
    names = [unique("same"), unique("same"), unique("other")]
    mappings = [{}, {}, {"shop": "shop-other"}]  # (services keep their node ports: they would clash)
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(run, storage, sandbox, name, namespaceMapping=mapping, excludedResources=["services"])
            for name, mapping in zip(names, mappings, strict=True)
        ]
        states = [f.result() for f in futures]
    assert [s.name for s in states] == ["Completed"] * 3
    first, second = sorted(_target_window(s) for s in states[:2])
    assert first[1] <= second[0], "two restores into namespace shop overlapped"
    host = sandbox.url.split("://", 1)[1]
    with get_client(sync_client=True) as client:
        for namespace in ("shop", "shop-other"):
            limit = client.read_global_concurrency_limit_by_name(f"restoreflow-target-{host}-{namespace}")
            assert limit.limit == 1 and limit.active_slots == 0
    assert sandbox.get("deployments.apps", "web", namespace="shop-other") is not None


def test_cancelling_the_flow_run_stops_the_restore(sandbox: Sandbox, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from prefect.client.schemas.filters import FlowRunFilterName
    from prefect.states import Cancelling

    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    app = sample_application("shop")
    app.find("Pod", "toolbox")["metadata"]["annotations"]["sandbox.restoreflow.dev/pod-volume-restore"] = (
        "hang"
    )
    app.add_to(BackupBuilder("demo-backup", included_namespaces=["shop"])).write(storage)
    name = unique("cancel")
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run, storage, sandbox, name, timeouts={"fsBackupRestore": "5m"})
        with get_client(sync_client=True) as client:
            by_name = FlowRunFilter(name=FlowRunFilterName(any_=[name]))
            while not (
                found := client.read_flow_runs(flow_run_filter=by_name)
            ) or not storage.restores.exists(name):
                assert time.monotonic() - started < 60 and not running.done()
                time.sleep(0.2)
            time.sleep(1.0)  # well into the restore: the stuck volume waits for up to 5 minutes
            client.set_flow_run_state(found[0].id, Cancelling(), force=True)
        state = running.result(timeout=60)

    assert time.monotonic() - started < 60
    assert state.type == StateType.CANCELLED
    record = storage.restores.get(name)["status"]
    assert record["phase"] == "Failed"
    assert record["failureReason"] == "restore cancelled"


def test_the_progress_artifact_says_items_volumes_and_bytes() -> None:
    """What the Prefect UI's progress artifact reads while volumes restore (the final text is the
    restore's summary, so the running one is checked from the engine's own progress)."""
    from restoreflow.orchestration.observe import progress_text
    from restoreflow.restore.context import Progress

    running = Progress(phase="InProgress", total_items=18, items_restored=18, volumes_total=2, volumes_done=1)
    running.pod_volume_bytes = (5 << 20, 10 << 20)
    running.data_mover_bytes = (0, 10 << 20)
    assert (
        progress_text(running) == "InProgress: 18 of 18 items restored, 1 of 2 volumes, 5.0 MiB of 20.0 MiB"
    )
    assert progress_text(Progress(phase="InProgress", total_items=3)) == "InProgress: 0 of 3 items restored"
