"""The per-target concurrency limit: a restore takes a free target at once, one waiting for its target
starts as soon as it is free, and a restore waiting for its target can be cancelled. (That two
restores of one target never overlap is in test_flow.)"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.objects import StateType
from prefect.states import Cancelling, State

from restoreflow.backup import BackupStorage
from restoreflow.orchestration import restore
from restoreflow.orchestration.locking import hold_target
from restoreflow.sandbox import Sandbox
from tests.flow.harness import plan_document, unique, yaml_text
from tests.flow.test_flow import task_runs

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]


def run(storage: BackupStorage, sandbox: Sandbox, name: str, namespace: str) -> State:
    """Restore the sample's namespace `shop` into `namespace` (services keep their node ports: left out)."""
    document = plan_document(
        storage.url, sandbox.kubeconfig, namespaceMapping={"shop": namespace}, excludedResources=["services"]
    )
    return restore(plan=yaml_text(document), restore_name=name, return_state=True)


def limit_name(sandbox: Sandbox, namespace: str) -> str:
    return f"restoreflow-target-{sandbox.url.split('://', 1)[1]}-{namespace}"


def held(state: State) -> tuple[Any, Any, Any]:
    """When the restore ended its prepare phase, and from its first resource group to its hooks."""
    runs = task_runs(state)
    prepare = next(r for r in runs if r.name == "prepare")
    holding = [r for r in runs if r.name.startswith("restore ") or r.name in ("volumes", "hooks")]
    return prepare.end_time, min(r.start_time for r in holding), max(r.end_time for r in holding)


def wait_until_prepared(name: str, running: Future[State]) -> UUID:
    """Until the restore's prepare phase is over (it then waits for its target); its flow run id."""
    by_name = FlowRunFilter(name=FlowRunFilterName(any_=[name]))
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while True:
            assert time.monotonic() < deadline and not running.done()
            found = client.read_flow_runs(flow_run_filter=by_name)
            tasks = client.read_task_runs(flow_run_filter=by_name) if found else []
            if any(t.name == "prepare" and t.state and t.state.is_completed() for t in tasks):
                return found[0].id
            time.sleep(0.2)


def test_back_to_back_restores_take_their_target_at_once(sandbox: Sandbox, storage: BackupStorage) -> None:
    namespace = unique("shop")
    for _ in range(4):  # Prefect's own slot helper stalled 2 s on about half of these
        state = run(storage, sandbox, unique("again"), namespace)
        assert state.name == "Completed"
        prepared, first_group, _ = held(state)
        assert (first_group - prepared).total_seconds() < 1.9  # the old stall was 2 s or more
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(limit_name(sandbox, namespace))
    assert limit.limit == 1 and limit.active_slots == 0


def test_a_waiting_restore_starts_as_soon_as_its_target_is_free(
    sandbox: Sandbox, storage: BackupStorage
) -> None:
    namespace, name = unique("shop"), unique("queued")
    with ThreadPoolExecutor(1) as pool:
        with hold_target([limit_name(sandbox, namespace)]):
            running = pool.submit(run, storage, sandbox, name, namespace)
            wait_until_prepared(name, running)
            time.sleep(3)  # the wait is at its slowest pace by now
            releasing = datetime.now(UTC)
        released = datetime.now(UTC)
        state = running.result(timeout=60)
    assert state.name == "Completed"
    _, first_group, _ = held(state)
    assert first_group > releasing, "the restore did not wait for its target"
    assert (first_group - released).total_seconds() < 3.0, "the restore noticed its free target late"


def test_cancelling_a_restore_that_waits_for_its_target(sandbox: Sandbox, storage: BackupStorage) -> None:
    namespace = unique("shop")
    name = unique("waiting")
    with ThreadPoolExecutor(1) as pool, hold_target([limit_name(sandbox, namespace)]):
        running = pool.submit(run, storage, sandbox, name, namespace)
        flow_run = wait_until_prepared(name, running)
        time.sleep(0.5)  # waiting for the target this test holds
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(flow_run, Cancelling(), force=True)
        cancelled = time.monotonic()
        state = running.result(timeout=30)
        assert time.monotonic() - cancelled < 10, "the cancel waited for the target"
    assert state.type == StateType.CANCELLED
    assert not [r for r in task_runs(state) if r.name.startswith("restore ")]
    record = storage.restores.get(name)["status"]
    assert record["phase"] == "Failed" and record["failureReason"] == "restore cancelled"
    assert sandbox.get("deployments.apps", "web", namespace=namespace) is None


def test_a_holder_names_itself_once_for_all_its_targets_among_many_variables() -> None:
    """One note for a restore's namespaces, found by each of them while the server keeps hundreds of
    other variables (more than one page of them), and gone from each when `restore unlock` forgets it."""
    from prefect.client.schemas.actions import VariableCreate

    from restoreflow.backup.liveness import process_identity
    from restoreflow.orchestration.locking import forget_holders, read_holders

    names = [f"restoreflow-target-test-{unique('ns')}" for _ in range(3)]
    with get_client(sync_client=True) as client:
        for i in range(210):
            client.create_variable(VariableCreate(name=unique(f"other-{i}"), value=i))
        with hold_target(names):
            deadline = time.monotonic() + 10
            while not read_holders(client, names[2]) and time.monotonic() < deadline:
                time.sleep(0.1)  # the note is written from the lease's renewal thread
            notes = [read_holders(client, name) for name in names]
        assert all(len(found) == 1 for found in notes), notes
        assert notes[0][0]["targets"] == sorted(names)
        assert notes[0][0]["process"]["pid"] == process_identity()["pid"]
        forget_holders(client, names[1])
        assert [read_holders(client, name) for name in names] == [[], [], []]
