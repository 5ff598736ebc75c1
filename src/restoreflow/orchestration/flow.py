"""The `restore` flow: a restore plan run as Prefect tasks, one per phase and one per resource group.

Phases are tasks, not subflows. Measured on a local Prefect server (`bench/bench_flow.py`), a
task's Running and Completed states reach the API within tens of milliseconds of happening, about
as soon as a subflow's; but a subflow costs some 0.8 s of orchestration against a task's 10 ms, and
would have to carry the restore's context (threads, locks, an open archive) as parameters. Inside the
restore phase there is one task per resource group ("restore pods: 1,204 items"), never one per item.

Retries and timeouts come from the plan: `spec.retries.phases` (attempts, delay) for every phase;
`spec.timeouts.fsBackupRestore` bounds the volumes phase, `hookWait + execHook` the hooks phase and
`itemOperationTimeout` the item operations phase (run only when an action started async operations).
The engine enforces those deadlines itself (Prefect cannot interrupt a blocking call on a worker
thread); the task timeout, a little longer, is the backstop. Engine phases are idempotent, so a
retried phase or a retried flow run finishes the job without duplicates. A retried flow run also
resumes: each resource group persists its outcome (JSON, in Prefect's result storage, keyed by the
flow run), so the groups an earlier attempt finished are Cached and taken, not restored again.

The final state is Velero's phase: `Completed`, or a Failed-type state named `PartiallyFailed`,
`Failed` or `FailedValidation` (automations match `prefect.flow-run.PartiallyFailed` and so on),
with the counts in its message.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_client, runtime, task
from prefect.cache_policies import NO_CACHE, CachePolicy
from prefect.logging import get_run_logger
from prefect.states import Cancelled, Completed, Failed, State
from prefect.transactions import get_transaction
from prefect.utilities.annotations import quote

from restoreflow import restore as engine
from restoreflow.backup import BackupError
from restoreflow.cluster import ApiError
from restoreflow.describe import describe_restore
from restoreflow.orchestration.cancel import CancellationWatch
from restoreflow.orchestration.locking import hold_target, limit_names
from restoreflow.orchestration.observe import ProgressArtifact, RestoreEvents, publish_summary
from restoreflow.orchestration.review import publish_verification, run_preview
from restoreflow.plan import PlanError, load_plan, load_plan_text
from restoreflow.plan.model import RestorePlan
from restoreflow.restore import outcomes
from restoreflow.restore.verify import verify_restore

TIMEOUT_GRACE = 30.0  # seconds past the engine's own deadline before Prefect's backstop fires


PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    engine.ValidationFailed,
    engine.RestoreCancelled,
    BackupError,
    PlanError,
)


def worth_retrying(error: BaseException) -> bool:
    """Transient faults (connection resets, timeouts, 429, 5xx) are; what a retry cannot fix is not:
    an invalid backup, a failed validation, a cancel, an API refusal such as 401, 403 or 422."""
    if isinstance(error, PERMANENT_ERRORS):
        return False
    if isinstance(error, ApiError):
        return error.retryable
    return True


def _retry_condition(task: Any, task_run: Any, state: State) -> bool:
    """Prefect's `retry_condition_fn`: retry a failed phase only when that can help."""
    try:
        state.result()
    except Exception as error:
        return worth_retrying(error)
    return True


PHASE_TASK: dict[str, Any] = {
    "cache_policy": NO_CACHE,  # the context holds threads and locks: never hash or persist it
    "persist_result": False,
    "retry_condition_fn": _retry_condition,
}


def group_cache_key(task_ctx: Any, parameters: dict[str, Any]) -> str | None:
    """Where a resource group's outcome is kept: per flow run, so that only a retry of this run finds
    it, and per restore, backup, plan and group, so that a retry after any of them changed restores
    the group again. Readable: `restoreflow/<flow run id>/<group>-<digest>`."""
    ctx, group = parameters["ctx"], parameters["group"]
    if not ctx.flow_run_id:
        return None
    identity = [outcomes.FORMAT, ctx.name, ctx.backup_name, ctx.plan.document, group.resource, len(group)]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return f"restoreflow/{ctx.flow_run_id}/{group.resource}-{digest[:16]}"


GROUP_TASK: dict[str, Any] = {
    **PHASE_TASK,
    # One small JSON document per group (item keys, actions, messages: never an object's content),
    # in Prefect's result storage: a retry of the flow run takes it instead of restoring the group.
    "cache_policy": CachePolicy.from_cache_key_fn(group_cache_key),
    "persist_result": True,
    "result_serializer": "json",
}


def _keep_out_of_cache() -> None:
    """Do not keep this group's outcome: a retry restores the group again (its failures are what a
    retry after fixing their cause is for). Prefect does the same for a task run that fails."""
    current = get_transaction()
    if current is not None:
        current.write_on_commit = False


class _ToRunLogger(logging.Handler):
    """Forwards the engine's log lines to the phase's run logger (its logs in the Prefect UI)."""

    def __init__(self, run_logger: Any) -> None:
        super().__init__(logging.INFO)
        self.run_logger = run_logger

    def emit(self, record: logging.LogRecord) -> None:
        self.run_logger.log(record.levelno, record.getMessage())


@contextmanager
def phase_logs(ctx: Any) -> Iterator[None]:
    """While a phase runs, its engine log lines (from any worker thread) go to the phase's task run."""
    handler = _ToRunLogger(get_run_logger())
    ctx.log.propagate = False  # shown once, through Prefect
    ctx.log.addHandler(handler)
    try:
        yield
    finally:
        ctx.log.removeHandler(handler)


@task(name="validate", **PHASE_TASK)
def validate_phase(
    plan: RestorePlan,
    restore_name: str,
    backup_name: str | None,
    labels: dict[str, str],
    flow_run_id: str,
    on_progress: Any,
) -> Any:
    return engine.validate(
        plan,
        restore_name=restore_name,
        backup_name=backup_name,
        flow_run_id=flow_run_id,
        on_progress=on_progress,
        labels=labels,
    )


@task(name="fetch backup", **PHASE_TASK)
def fetch_phase(ctx: Any) -> None:
    with phase_logs(ctx):
        engine.fetch(ctx)


@task(name="prepare", **PHASE_TASK)
def prepare_phase(ctx: Any) -> list[Any]:
    with phase_logs(ctx):
        return engine.prepare(ctx)


@task(name="restore resources", **GROUP_TASK)
def restore_group_phase(ctx: Any, group: Any) -> dict[str, Any]:
    with phase_logs(ctx):
        outcome = engine.restore_group(ctx, group)
    if not outcome.clean:
        _keep_out_of_cache()
    return outcome.to_dict()


@task(name="volumes", **PHASE_TASK)
def volumes_phase(ctx: Any) -> None:
    with phase_logs(ctx):
        engine.restore_volumes(ctx)


@task(name="hooks", **PHASE_TASK)
def hooks_phase(ctx: Any) -> None:
    with phase_logs(ctx):
        engine.run_hooks(ctx)


@task(name="item operations", **PHASE_TASK)
def operations_phase(ctx: Any) -> None:
    with phase_logs(ctx):
        engine.wait_for_operations(ctx)


@task(name="verify", **PHASE_TASK)
def verify_phase(ctx: Any) -> None:
    with phase_logs(ctx):
        verification = verify_restore(ctx)
    if verification is not None:
        publish_verification(ctx.name, verification)


@task(name="finalize", **PHASE_TASK)
def finalize_phase(ctx: Any, failure: str | None) -> Any:
    with phase_logs(ctx):
        return engine.finalize(ctx, failure)


def read_plan(plan: str) -> RestorePlan:
    """The `plan` parameter: inline YAML/JSON text, or a path in the working copy. A plan without a
    storage location takes RESTOREFLOW_STORAGE_LOCATION from the run's environment (a work pool's)."""
    location = os.environ.get("RESTOREFLOW_STORAGE_LOCATION")
    if "\n" in plan or plan.lstrip().startswith("{"):
        return load_plan_text(plan, source="<plan parameter>", storage_location=location)
    return load_plan(plan, storage_location=location)


def default_restore_name(plan_name: str) -> str:
    """`<plan>-<YYYYMMDDHHMMSS>` like Velero, from the run's scheduled start: stable across retries."""
    start = runtime.flow_run.scheduled_start_time or datetime.now(UTC)
    return f"{plan_name}-{start.astimezone(UTC):%Y%m%d%H%M%S}"


def final_state(phase: str, message: str, data: Any = None) -> State:
    if phase == "Completed":
        return Completed(message=message, data=data)
    return Failed(name=phase, message=message, data=data)


class RestoreRun:
    """One flow run of one restore: phases in order, with events and artifacts around them."""

    def __init__(self, plan: RestorePlan, restore_name: str, backup_name: str | None, labels: dict[str, str]):
        self.plan = plan
        self.name = restore_name
        self.backup_name = backup_name
        self.labels = labels
        self.log = get_run_logger()
        self.events = RestoreEvents(restore_name)
        self.events.backup = (
            backup_name or plan.spec.source.backup_name or plan.spec.source.schedule_name or ""
        )
        self.events.target = _target_text(plan)
        retries = plan.spec.retries.phases
        self.retry = {"retries": max(retries.attempts - 1, 0), "retry_delay_seconds": retries.delay}

    def observed(self, name: str, work: Callable[..., Any], *args: Any) -> Any:
        """Run one phase; emit `restoreflow.restore.phase.<name>` with its outcome and duration."""
        started = time.monotonic()
        try:
            value = work(*args)
        except BaseException as error:
            self.events.emit(
                f"phase.{name}", {"outcome": "Failed", "error": str(error), "seconds": _since(started)}
            )
            raise
        self.events.emit(f"phase.{name}", {"outcome": "Completed", "seconds": _since(started)})
        return value

    def phase(self, name: str, phase_task: Any, *args: Any, timeout: float | None = None) -> Any:
        """Run one phase task with the plan's retries and the phase's timeout."""
        options = {**self.retry, "timeout_seconds": timeout, "task_run_name": phase_task.name}
        return self.observed(name, phase_task.with_options(**options), *args)

    def execute(self) -> State:
        flow_run_id = str(runtime.flow_run.id)
        self.events.emit("started", {"plan": self.plan.name, "flowRunId": flow_run_id})
        progress = ProgressArtifact(self.name)
        try:
            return self.run_all(progress, flow_run_id)
        finally:
            progress.close()  # also on a crash or Ctrl-C: no update may outlive the run's client

    def run_all(self, progress: ProgressArtifact, flow_run_id: str) -> State:
        try:
            ctx = self.phase(
                "validate",
                validate_phase,
                self.plan,
                self.name,
                self.backup_name,
                self.labels,
                flow_run_id,
                progress,
            )
        except engine.ValidationFailed as failed:
            progress.close()
            if failed.result is not None:
                self.publish(failed.result)
            message = f"restore {self.name} failed validation: {'; '.join(failed.errors)}"
            return self.finish("FailedValidation", message, failed.result)
        try:
            result, cancelled = self.run_to_end(ctx, flow_run_id)
        except BaseException as error:  # Ctrl-C, a signal, a crash: the record still gets its files
            self.stop(ctx, error)
            raise
        finally:
            if ctx.connected:
                ctx.cluster.close()
        closing = _alongside(progress.close, 100.0, result.summary())  # two API calls at once
        self.publish(result)
        closing.join()
        if cancelled:
            self.events.emit(f"finished.{result.phase}", {"phase": result.phase, "message": result.summary()})
            return Cancelled(message=f"restore {self.name} cancelled: {result.summary()}")
        return self.finish(result.phase, result.summary(), result)

    def run_to_end(self, ctx: Any, flow_run_id: str) -> tuple[Any, bool]:
        """The phases after validate, then finalize (also after a failed or cancelled phase); the
        result and whether the flow run was cancelled."""
        self.events.backup = ctx.backup_name or self.events.backup
        failure = None
        watch = CancellationWatch(flow_run_id, ctx.cancel)
        try:
            self.run_phases(ctx)
        except engine.RestoreCancelled:
            self.log.warning("restore %s cancelled", self.name)
        except Exception as error:
            failure = str(error) or type(error).__name__
            self.log.error("restore %s failed: %s", self.name, failure)
        finally:
            watch.close()
        return self.phase("finalize", finalize_phase, ctx, failure), watch.cancelled

    def stop(self, ctx: Any, error: BaseException) -> None:
        """Finalize a restore that an exception stopped: Failed, with the log, results and resource
        list so far (the engine, not a task: Prefect's server may be going away with this process)."""
        try:
            result = engine.stop(ctx, error)
        except Exception as failure:  # never hide what stopped the restore
            self.log.error("restore %s: its record could not be written: %s", self.name, failure)
            return
        stopped_by = type(error).__name__
        self.log.warning("restore %s stopped by %s: recorded %s", self.name, stopped_by, result.phase)

    def run_phases(self, ctx: Any) -> None:
        timeouts = self.plan.spec.timeouts
        self.phase("fetch", fetch_phase, ctx)
        groups = self.phase("prepare", prepare_phase, ctx)
        names = limit_names(ctx, groups)
        self.log.info("waiting for the target: %s", ", ".join(names))
        with hold_target(names, cancel=ctx.cancel):
            self.observed("restore", self.restore_groups, ctx, groups)
            self.phase("volumes", volumes_phase, ctx, timeout=timeouts.fs_backup_restore + TIMEOUT_GRACE)
            self.phase(
                "hooks", hooks_phase, ctx, timeout=timeouts.hook_wait + timeouts.exec_hook + TIMEOUT_GRACE
            )
            if ctx.item_operations:  # Velero's WaitingForPluginOperations, only when an action started any
                timeout = self.plan.spec.item_operation_timeout + TIMEOUT_GRACE
                self.phase("operations", operations_phase, ctx, timeout=timeout)
            if self.plan.spec.verify is not None:  # a failed verification makes it PartiallyFailed
                self.phase("verify", verify_phase, ctx)

    def restore_groups(self, ctx: Any, groups: list[Any]) -> None:
        """One task per resource group, strictly in order. On a retry of the flow run, a group that an
        earlier attempt restored without failures is Cached: its outcome is taken, not restored again."""
        for group in groups:
            run_group = restore_group_phase.with_options(**self.retry, task_run_name=str(group))
            outcome = run_group(ctx, quote(group))  # quote: Prefect would walk its every item (0.3-0.5 s)
            if group.resource not in ctx.outcomes:
                self.log.info("%s: taken from an earlier attempt of this flow run", group)
            engine.absorb_group(ctx, group, outcome)

    def publish(self, result: Any) -> None:
        """The summary, describe and link artifacts (the record carries its labels since validate)."""
        record = result.status
        describe_text = describe_restore(
            record, results=result.results, resource_list=result.resource_list, details=True
        )
        publish_summary(
            self.name,
            record=record,
            resource_list=result.resource_list,
            describe_text=describe_text,
            record_url=result.record_url or "",
        )

    def finish(self, phase: str, message: str, result: Any = None) -> State:
        self.events.emit(f"finished.{phase}", {"phase": phase, "message": message})
        if phase == "Completed":
            forget_outcomes(str(runtime.flow_run.id))
        data = {"name": self.name, "phase": phase, "message": message}
        if result is not None:
            data |= {
                "counts": result.counts,
                "warnings": result.warnings,
                "errors": result.errors,
                "record": result.record_url,
            }
        return final_state(phase, message, data)


def forget_outcomes(flow_run_id: str) -> None:
    """A Completed run is never retried: drop its groups' outcomes (in local result storage; other
    storage keeps them, about 14 bytes per item, until deleted)."""
    from prefect.filesystems import LocalFileSystem
    from prefect.results import get_result_store

    storage = get_result_store().result_storage
    if isinstance(storage, LocalFileSystem) and storage.basepath:
        outcomes_dir = Path(storage.basepath).expanduser() / "restoreflow" / flow_run_id
        shutil.rmtree(outcomes_dir, ignore_errors=True)


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _target_text(plan: RestorePlan) -> str:
    target = plan.spec.target
    namespaces = ",".join(plan.spec.target_namespace(ns) for ns in plan.spec.included_namespaces) or "*"
    return f"{target.context or 'current'}.{namespaces}"


def _alongside(call: Callable[..., Any], *args: Any) -> threading.Thread:
    """Start `call` in a thread that sees this run's context (Prefect's run and client live there)."""
    thread = threading.Thread(target=contextvars.copy_context().run, args=(call, *args), daemon=True)
    thread.start()
    return thread


def _rename_flow_run(name: str) -> None:
    """Show the restore's name as the flow run's name in the UI (`restore create` names it already)."""
    if runtime.flow_run.name == name:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(runtime.flow_run.id, name=name)


@flow(name="restore", log_prints=False, persist_result=False)
def restore(
    plan: str,
    backup_name: str | None = None,
    restore_name: str | None = None,
    labels: dict[str, str] | None = None,
    dry_run: bool = False,
) -> State:
    """Restore a Velero backup as a restore plan says.

    Args:
        plan: a plan file in the working copy (e.g. `plans/nightly-dr-drill.yaml`) or the plan's YAML.
        backup_name: restore this backup instead of the plan's backup or schedule.
        restore_name: the restore's name (default `<plan name>-<YYYYMMDDHHMMSS>`).
        labels: labels recorded on the restore (`restoreflow restore get --show-labels`).
        dry_run: only preview: decide every item with server-side dry runs, write nothing.
    """
    try:
        restore_plan = read_plan(plan)
    except PlanError as error:
        return Failed(name="FailedValidation", message=f"invalid restore plan:\n{error}")
    except OSError as error:
        return Failed(
            name="FailedValidation", message=f"cannot read restore plan {plan}: {error.strerror or error}"
        )
    name = restore_name or default_restore_name(restore_plan.name)
    _rename_flow_run(name)
    if dry_run:
        return run_preview(restore_plan, name, backup_name)
    return RestoreRun(restore_plan, name, backup_name, dict(labels or {})).execute()
