"""Async restore item operations (RestoreItemAction v2): wait for them, as Velero's controllers do.

An action's `execute()` may return an operation id for work it started and did not wait for (a data
download, an image import). Once the items are restored, the restore waits in Velero's phase
`WaitingForPluginOperations` (`...PartiallyFailed` after the first failure) and polls each action's
`progress()`: at once, then with a backoff up to Velero's 10 s sync period. An operation fails when
it completes with an error, when `progress()` raises or the action cannot report progress, and when
the plan's itemOperationTimeout passes since it was created (the action's `cancel()` is called, and
the error is Velero's "Asynchronous action timed out"). Each failure is a Velero error of the restore
("error from restore item operation: ..."); the operations, with their progress, are written to the
record (`restore-<R>-itemoperations.json.gz`) and summarised in the status.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from restoreflow.kube.gvr import parse_group_resource
from restoreflow.restore.context import RestoreContext

FIRST_POLL = 0.1  # seconds
SYNC_PERIOD = 10.0  # Velero's --item-operation-sync-frequency
TIMED_OUT = "Asynchronous action timed out"
RUNNING = ("New", "InProgress")


def record(ctx: RestoreContext, action: str, group_resource: str, namespace: str, name: str, op: str) -> None:
    """An operation an action started on an item, as Velero's RestoreOperation (phase New)."""
    resource, group = parse_group_resource(group_resource)
    now = time.time()
    with ctx.lock:
        # the record's `created` has whole seconds; the timeout is counted from this exact time
        ctx.work.operations_started[(action, op)] = now
        ctx.item_operations.append(
            {
                "spec": {
                    "restoreName": ctx.name,
                    "restoreUID": ctx.uid,
                    "restoreItemAction": action,
                    "resourceIdentifier": {
                        "Group": group,
                        "Resource": resource,
                        "Namespace": namespace,
                        "Name": name,
                    },
                    "operationID": op,
                },
                "status": {"phase": "New", "created": _timestamp(datetime.fromtimestamp(now, UTC))},
            }
        )


def wait_for_item_operations(ctx: RestoreContext, actions: Iterable[Any]) -> None:
    """Poll every operation the actions started until none is running; failures become errors."""
    if not ctx.item_operations:
        return
    by_name = {action.name: action for action in actions}
    ctx.log.info("waiting for %d restore item operations", len(ctx.item_operations))
    pause = FIRST_POLL
    while True:
        for operation in ctx.item_operations:
            if operation["status"]["phase"] in RUNNING:
                _poll(ctx, operation, by_name.get(operation["spec"]["restoreItemAction"]))
        _publish_bytes(ctx)
        if not any(op["status"]["phase"] in RUNNING for op in ctx.item_operations) or ctx.cancelled:
            break
        waiting = "WaitingForPluginOperations"
        ctx.set_phase(waiting + ("PartiallyFailed" if ctx.results.error_count else ""), step="operations")
        ctx.cancel.wait(pause)
        pause = min(pause * 2, SYNC_PERIOD)
    phases = [op["status"]["phase"] for op in ctx.item_operations]
    completed, failed = phases.count("Completed"), phases.count("Failed")
    ctx.log.info("restore item operations: %d completed, %d failed", completed, failed)


def _poll(ctx: RestoreContext, operation: dict[str, Any], action: Any) -> None:
    spec, status = operation["spec"], operation["status"]
    if action is None or not callable(getattr(action, "progress", None)):
        name = spec["restoreItemAction"]
        _fail(ctx, operation, f"restore item action {name} does not report the progress of operations")
        return
    try:
        progress = action.progress(spec["operationID"], ctx)
    except Exception as error:
        _fail(ctx, operation, str(error))
        return
    for key, value in _progress_fields(progress).items():  # the latest report wins, as in Velero
        if value in (None, "", 0):
            status.pop(key, None)
        else:
            status[key] = value
    if progress.completed:
        if progress.error:
            _fail(ctx, operation, progress.error)
        else:
            status["phase"] = "Completed"
        return
    started = ctx.work.operations_started.get((spec["restoreItemAction"], spec["operationID"]))
    if (started or _created(status)) + ctx.plan.spec.item_operation_timeout < time.time():
        try:
            action.cancel(spec["operationID"], ctx)
        except Exception as error:
            ctx.log.warning("cancelling operation %s: %s", spec["operationID"], error)
        _fail(ctx, operation, TIMED_OUT)
        return
    if status["phase"] == "New" and status.get("started"):
        status["phase"] = "InProgress"


def _publish_bytes(ctx: RestoreContext) -> None:
    """The data movers' bytes (operations counted in Bytes, as DataDownloads are) into the progress."""
    moving = [op["status"] for op in ctx.item_operations if op["status"].get("operationUnits") == "Bytes"]
    done, total = sum(s.get("nCompleted", 0) for s in moving), sum(s.get("nTotal", 0) for s in moving)
    with ctx.lock:
        ctx.progress.data_mover_bytes = (done, total)


def _fail(ctx: RestoreContext, operation: dict[str, Any], error: str) -> None:
    operation["status"] |= {"phase": "Failed", "error": error}
    ctx.results.add_velero_error(f"error from restore item operation: {error}")


def _progress_fields(progress: Any) -> dict[str, Any]:
    """The OperationStatus fields of a progress report, in Velero's JSON names."""
    return {
        "nCompleted": progress.n_completed,
        "nTotal": progress.n_total,
        "operationUnits": progress.operation_units,
        "description": progress.description,
        "started": _timestamp(progress.started),
        "updated": _timestamp(progress.updated),
    }


def _timestamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _created(status: dict[str, Any]) -> float:
    return datetime.strptime(status["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
