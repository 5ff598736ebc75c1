"""The restore's phases as plain functions over a RestoreContext (each one a Prefect task upstream).

Every phase may be called again after a failure: work already done is recognised and skipped.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from restoreflow.actions.base import RestoreItemAction
from restoreflow.actions.registry import load_actions
from restoreflow.backup import BackupError, BackupNotFound, BackupStorage, ScheduleHasNoBackup
from restoreflow.cluster import ApiError, Cluster, ConnectionFault, wait_until
from restoreflow.kube.names import dns1123_subdomain_errors, invalid_value
from restoreflow.kube.selectors import selectors_problems
from restoreflow.plan.model import RestorePlan
from restoreflow.restore import hooks, operations, outcomes, version_priorities, volumes
from restoreflow.restore.context import (
    BackupContents,
    Prepared,
    Progress,
    ResourceProgress,
    RestoreContext,
    fetched,
    opened,
    prepared,
)
from restoreflow.restore.items import ItemRestorer
from restoreflow.restore.outcomes import GroupOutcome
from restoreflow.restore.record import RestoreResult, label_errors, status_document
from restoreflow.restore.resource_modifiers import ResourceModifierError, ResourceModifiers
from restoreflow.restore.selection import (
    CRDS,
    MUST_HAVE,
    NAMESPACES,
    Filters,
    ItemRef,
    Resolver,
    ResourceGroup,
    choose_version,
    ordered_resources,
    source_versions,
)

RESTORABLE_BACKUP_PHASES = ("Completed", "PartiallyFailed")
CRD_POLL_INTERVAL = 0.5


class ValidationFailed(Exception):
    """The restore cannot start; its phase is FailedValidation and a record was written where possible."""

    def __init__(self, errors: list[str], result: RestoreResult | None = None) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.result = result


class RestoreCancelled(Exception):
    """The cancel signal was set: no new items were started; finalize() records what was done."""


# -- phase 1 ---------------------------------------------------------------------------------------
def validate(
    plan: RestorePlan,
    *,
    restore_name: str,
    backup_name: str | None = None,
    cancel: threading.Event | None = None,
    flow_run_id: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    labels: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> RestoreContext:
    """Backup storage reachable, the backup exists and is restorable, the cluster answers.

    `labels` are the restore's own (`restore create --labels`): every status document carries them,
    so `restore get -l` finds a restore while it runs, as Velero's Restore object has them from creation.
    `dry_run` starts a preview: nothing will be written to the storage location, even on failure.
    """
    ctx = RestoreContext(
        plan,
        name=restore_name,
        cancel=cancel,
        flow_run_id=flow_run_id,
        on_progress=on_progress,
        labels=labels,
    )
    ctx.dry_run = dry_run
    ctx.start_timestamp = datetime.now(UTC)
    if backup_name:
        ctx.backup_name, ctx.schedule_name = backup_name, None
    ctx.set_phase("New", "validate")
    try:
        errors = _validation_errors(ctx)
        if not errors:
            ctx.set_phase("InProgress")
    except BaseException as error:  # a crash or Ctrl-C here must not leave an InProgress record behind
        stop(ctx, error)
        raise
    if errors:
        ctx.validation_errors = errors
        raise ValidationFailed(errors, finalize(ctx))
    ctx.log.info("restore %s of backup %s validated", ctx.name, ctx.backup_name)
    return ctx


def _validation_errors(ctx: RestoreContext) -> list[str]:
    errors = _check_plan(ctx) + _check_source(ctx) + _check_cluster(ctx)
    return errors or _check_modifiers(ctx)


def _check_plan(ctx: RestoreContext) -> list[str]:
    """What a plan built in code (not loaded from YAML) may still get wrong, in Velero's words."""
    spec, errors = ctx.plan.spec, list[str]()
    errors.extend(selectors_problems(spec.label_selector, spec.or_label_selectors))
    if spec.existing_resource_policy not in ("none", "update"):
        errors.append(f"Invalid ExistingResourcePolicy: {spec.existing_resource_policy}")
    return errors + label_errors(ctx.labels)


def _check_source(ctx: RestoreContext) -> list[str]:
    source = ctx.plan.spec.source
    try:
        ctx.storage = BackupStorage.open(source.storage_location, source.options)
        for kind, name in (("backup", ctx.backup_name), ("schedule", ctx.schedule_name)):
            if name and (problems := dns1123_subdomain_errors(name)):  # a name, never a path in the BSL
                return [f"invalid {kind} name: {invalid_value(name, problems)}"]
        if ctx.backup_name:
            record = ctx.storage.get_backup(ctx.backup_name)
        else:
            record = ctx.storage.latest_backup_of_schedule(ctx.schedule_name or "")
    except ScheduleHasNoBackup as error:
        return [str(error)]  # Velero's own words: "No backups found for schedule" ...
    except BackupNotFound as error:
        return [f"Error retrieving backup: {error}"]
    except BackupError as error:
        return [str(error)]
    ctx.backup_record, ctx.backup, ctx.backup_name = record, dict(record.raw), record.name
    ctx.schedule_name = ctx.schedule_name or record.schedule_name
    if record.phase not in RESTORABLE_BACKUP_PHASES:
        return [
            f'backup "{record.name}" is not ready to be restored: its phase is {record.phase or "unknown"}'
        ]
    return []


def _check_cluster(ctx: RestoreContext) -> list[str]:
    spec = ctx.plan.spec
    try:
        ctx.cluster = Cluster.for_target(spec.target, spec.concurrency, spec.retries.api, ctx.cancel)
        ctx.cluster.log = ctx.log
        ctx.cluster.version()
    except (ApiError, ConnectionFault) as error:
        return [f"the target cluster {ctx.cluster.host} cannot be reached: {error}"]
    except Exception as error:  # a missing or broken kubeconfig, an unknown context
        return [f"the target cluster cannot be configured: {error}"]
    return []


def _check_modifiers(ctx: RestoreContext) -> list[str]:
    """Resource modifier rules (inline, or Velero's ConfigMap in the target) are read and validated once."""
    try:
        ctx.modifiers = ResourceModifiers.from_plan(ctx)
    except ResourceModifierError as error:
        return [str(error)]
    except (ApiError, ConnectionFault) as error:
        return [f"failed to get resource modifiers: {error}"]
    return []


# -- phase 2 ---------------------------------------------------------------------------------------
def fetch(ctx: RestoreContext) -> None:
    """Read the side files and stream the archive into the work folder (its inventory)."""
    if ctx.contents is not None:
        return
    ctx.set_phase(step="fetch")
    storage, record = opened(ctx.storage), opened(ctx.backup_record)
    side_files = {
        "volume_info": storage.volume_info(record),
        "volume_snapshots": storage.volume_snapshots(record),
        "pod_volume_backups": storage.pod_volume_backups(record),
        "csi_volume_snapshots": storage.csi_volume_snapshots(record),
        "csi_volume_snapshot_contents": storage.csi_volume_snapshot_contents(record),
        "csi_volume_snapshot_classes": storage.csi_volume_snapshot_classes(record),
        "item_operations": storage.item_operations(record),
    }
    contents = ctx.contents = BackupContents(archive=storage.open_archive(record), **side_files)
    for warning in contents.archive.warnings:
        if warning.startswith("zero items to be restored"):
            ctx.results.add_velero_warning(warning)
        else:
            ctx.log.warning("%s", warning)
    ctx.log.info("backup %s fetched", ctx.backup_name)


# -- phase 3 ---------------------------------------------------------------------------------------
def prepare(ctx: RestoreContext) -> list[ResourceGroup]:
    """Discovery, filters, versions and order: the groups to restore, before anything is written."""
    if ctx.prepared is not None:
        return list(ctx.prepared.groups)
    ctx.set_phase(step="prepare")
    archive, cluster = fetched(ctx).archive, opened(ctx.cluster)
    inventory: dict[str, dict[str, list[str]]] = archive.inventory
    cluster.discovery.refresh()
    resolver = Resolver(cluster.discovery.resources, _backup_crds(ctx, inventory))
    filters = Filters.from_spec(ctx.plan.spec, resolver.canonical)
    priorities = ctx.plan.spec.priorities
    first_pass = [resolver.canonical("customresourcedefinitions")]  # CRDs always go first
    order = first_pass + ordered_resources(priorities.high, priorities.low, inventory)
    groups: list[ResourceGroup] = []
    processed: set[str] = set()
    for entry in order:
        resource = resolver.canonical(entry)
        if resource in processed:
            continue
        processed.add(resource)
        if not filters.include_resource(resource) or resource not in inventory:
            continue
        group = _select(ctx, filters, resource, inventory[resource])
        group.served = resolver.info(resource) is not None
        if group.items:
            groups.append(group)
            if not group.served:
                ctx.log.warning("the target cluster does not serve %s: its items will fail", resource)
    _choose_versions(ctx, groups)
    ctx.prepared = Prepared(resolver, filters, tuple(groups))
    with ctx.lock:  # the whole total, once: a progress bar must never see it move
        ctx.progress.total_items = sum(len(g) for g in groups)
        ctx.progress.per_resource = {g.resource: ResourceProgress(total=len(g)) for g in groups}
        ctx.progress.volumes_expected = _expected_volumes(ctx, groups)
    ctx.report_progress(force=True)
    ctx.log.info("prepared %d items in %d resource groups", ctx.progress.total_items, len(groups))
    return groups


def _expected_volumes(ctx: RestoreContext, groups: list[ResourceGroup]) -> int:
    """The pod volume restores the selected pods will need: their backed-up volumes with a snapshot."""
    pods = next((g for g in groups if g.resource == "pods"), None)
    backups = fetched(ctx).pod_volume_backups
    if pods is None or not backups or not volumes._resources_included(ctx):
        return 0
    selected = {(ref.namespace, ref.name) for ref in pods.items}
    expected = set()
    for pvb in backups:
        with contextlib.suppress(AttributeError, TypeError):  # a malformed entry fails its pod, not this
            spec = pvb.get("spec") or {}
            pod = (spec.get("pod") or {}).get("namespace"), (spec.get("pod") or {}).get("name")
            if pod in selected and (pvb.get("status") or {}).get("snapshotID"):
                expected.add((*pod, spec.get("volume")))
    return len(expected)


def _backup_crds(ctx: RestoreContext, inventory: dict[str, dict[str, list[str]]]) -> list[dict[str, Any]]:
    """The CRDs the backup holds, so their resources resolve before they are served."""
    crds = []
    for name in (inventory.get(CRDS) or {}).get("", []):
        try:
            crds.append(fetched(ctx).archive.read_item(CRDS, "", name))
        except BackupError:
            continue  # reported when the item itself is restored
    return crds


def _select(
    ctx: RestoreContext, filters: Filters, resource: str, by_namespace: dict[str, list[str]]
) -> ResourceGroup:
    """Velero's getSelectedRestoreableItems for one resource."""
    group = ResourceGroup(resource)
    archive = fetched(ctx).archive
    for namespace in sorted(by_namespace):
        if namespace and not filters.include_namespace(resource, namespace):
            continue
        if not namespace and not filters.include_cluster_scoped_listing():
            continue
        for name in by_namespace[namespace]:
            if filters.uses_labels and resource not in MUST_HAVE:
                try:
                    labels = (archive.read_item(resource, namespace, name).get("metadata") or {}).get(
                        "labels"
                    )
                except BackupError:
                    labels = None  # undecodable: kept, so the restore reports it
                else:
                    if not filters.labels_match(resource, labels):
                        continue
            group.items.append(ItemRef(resource, namespace, name))
    return group


def _choose_versions(ctx: RestoreContext, groups: list[ResourceGroup]) -> None:
    """Where the backup holds several versions of a resource, read its items at the one chosen.

    The user's priorities come first (the plan's, then Velero's ConfigMap); a ConfigMap that cannot
    be read fails the choice, and then nothing is restored, as in Velero."""
    versions = source_versions(fetched(ctx).archive)
    if not versions:
        return
    try:
        user, warnings = version_priorities.user_priorities(ctx.plan.spec, ctx.cluster)
    except (ApiError, ConnectionFault) as error:
        ctx.results.add_velero_error(version_priorities.READ_ERROR.format(error=error))
        groups.clear()
        return
    for warning in warnings:
        ctx.results.add_velero_warning(warning)
    target_versions = ctx.cluster.discovery.group_versions()
    for group in groups:
        if group.resource not in versions:
            continue
        source, wanted = versions[group.resource], user.get(group.resource, ())
        group.version = choose_version(source, target_versions.get(group.resource.partition(".")[2]), wanted)
        if wanted and group.version not in wanted:
            ctx.log.info(
                "none of the versions %s wanted for %s is both in the backup and served: restoring %s",
                ",".join(wanted),
                group.resource,
                group.version,
            )
        if group.version != source.preferred:  # the preferred version is also at the classic path
            group.items = [
                ItemRef(ref.resource_dir, ref.namespace, ref.name, group.version) for ref in group.items
            ]


# -- phase 4 ---------------------------------------------------------------------------------------
def restore_group(ctx: RestoreContext, group: ResourceGroup) -> GroupOutcome:
    """Restore one group's items with a pool of workers; the CRD group then waits for its CRDs."""
    done = ctx.outcomes
    if group.resource in done:
        return done[group.resource]
    if ctx.cancelled:
        raise RestoreCancelled(f"restore {ctx.name} cancelled")
    ctx.set_phase(step="restore")
    restorer = _restorer(ctx)
    start, started = outcomes.mark(ctx), time.monotonic()
    if group.resource == NAMESPACES:
        _run_pool(ctx, group, lambda ref: _ensure_namespace(ctx, restorer, ref))
    else:
        _run_pool(ctx, group, lambda ref: restorer.restore_ref(ref, group.resource))
    if ctx.cancelled:
        raise RestoreCancelled(f"restore {ctx.name} cancelled")
    if group.resource == CRDS:
        _wait_for_crds(ctx, restorer)
    outcome = outcomes.outcome(ctx, group.resource, len(group), start, time.monotonic() - started)
    done[group.resource] = outcome
    ctx.log.info("restored %s", outcome)
    ctx.report_progress(force=True)
    return outcome


def absorb_group(ctx: RestoreContext, group: ResourceGroup, data: dict[str, Any]) -> GroupOutcome:
    """Take a group's outcome (`GroupOutcome.to_dict()`) from an earlier attempt of this restore
    instead of restoring the group again; nothing to do when this attempt restored the group itself."""
    done = ctx.outcomes
    if group.resource in done:
        return done[group.resource]
    if data.get("resource") != group.resource:
        raise ValueError(f"the outcome of {data.get('resource')!r} is not the outcome of {group.resource}")
    _restorer(ctx)  # its restore-wide warnings (actions that cannot be used), once, as in any attempt
    outcome = done[group.resource] = outcomes.absorb(ctx, data)
    ctx.log.info("restored %s (by an earlier attempt)", outcome)
    ctx.report_progress(force=True)
    return outcome


def _restorer(ctx: RestoreContext) -> ItemRestorer:
    with ctx.lock:
        if ctx.restorer is None:
            filters = prepared(ctx).filters
            ctx.restorer = ItemRestorer(ctx, filters, _load_actions(ctx), ctx.modifiers)
        return ctx.restorer


def _load_actions(ctx: RestoreContext) -> list[RestoreItemAction]:
    loaded = load_actions(ctx.plan)
    for problem in loaded.problems:
        ctx.results.add_velero_warning(problem)
    return list(loaded)


def _ensure_namespace(ctx: RestoreContext, restorer: ItemRestorer, ref: ItemRef) -> None:
    """The namespaces group: each selected Namespace is created (no actions, labels or policy)."""
    from restoreflow.restore.namespaces import NamespaceError

    with contextlib.suppress(NamespaceError):  # already reported as a Velero error
        restorer.namespaces.ensure(ctx.target_namespace(ref.name), ref.name)
    ctx.count_done(NAMESPACES)


def _run_pool(ctx: RestoreContext, group: ResourceGroup, work: Callable[[ItemRef], None]) -> None:
    """Workers take items from one shared queue until it is empty or the restore is cancelled."""
    pending = iter(group.items)
    lock = threading.Lock()

    def worker() -> None:
        while not ctx.cancelled:
            with lock:
                ref = next(pending, None)
            if ref is None:
                return
            try:
                work(ref)
            except Exception as error:  # an item never stops the restore
                ctx.log.exception("unexpected failure on %s", ref)
                ctx.results.add_error(
                    ctx.target_namespace(ref.namespace), f"error restoring {ref.name}: {error}"
                )

    size = max(1, min(ctx.plan.spec.concurrency.workers, len(group.items)))
    if size == 1:
        worker()
        return
    threads = [
        threading.Thread(target=worker, name=f"restore-{group.resource}-{i}", daemon=True)
        for i in range(size)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _wait_for_crds(ctx: RestoreContext, restorer: ItemRestorer) -> None:
    """Each restored CRD must be Established and NamesAccepted; then discovery is refreshed."""
    names = sorted(restorer.crds_to_wait)
    threads = [threading.Thread(target=_wait_for_crd, args=(ctx, name), daemon=True) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if any(
        key.resource.endswith("/CustomResourceDefinition") and s.action in ("created", "updated")
        for key, s in ctx.restored.items()
    ):
        try:
            ctx.cluster.discovery.refresh()
        except (ApiError, ConnectionFault) as error:
            ctx.results.add_warning("", f"refresh discovery after restoring CRDs: {error}")


def _wait_for_crd(ctx: RestoreContext, name: str) -> None:
    def available() -> bool:
        crd = ctx.cluster.get(CRDS, name) or {}
        conditions = {
            c.get("type"): c.get("status") for c in (crd.get("status") or {}).get("conditions") or []
        }
        return conditions.get("Established") == "True" and conditions.get("NamesAccepted") == "True"

    try:
        ready = wait_until(available, ctx.plan.spec.timeouts.crd_available, CRD_POLL_INTERVAL, ctx.cancel)
    except (ApiError, ConnectionFault) as error:
        ctx.results.add_error("", f"error verifying the CRD {name} is ready to use: {error}")
        return
    if not ready:
        ctx.results.add_error("", f"the CRD {name} is not available to use for custom resources")


# -- phases 5 and 6 --------------------------------------------------------------------------------
def restore_volumes(ctx: RestoreContext) -> None:
    """Wait for the file-system restores of the restored pods (bounded by timeouts.fsBackupRestore)."""
    if ctx.work.volumes_done:
        return
    ctx.set_phase(step="volumes")
    volumes.wait_pod_volume_restores(ctx)
    volumes.delete_data_upload_results(ctx)  # Velero's deferred cleanup, at this point of its restore
    ctx.work.volumes_done = True
    ctx.report_progress(force=True)


def run_hooks(ctx: RestoreContext) -> None:
    """Run the post-restore exec hooks registered for the restored pods."""
    if ctx.work.hooks_done:
        return
    ctx.set_phase(step="hooks")
    hooks.run_exec_hooks(ctx)
    ctx.work.hooks_done = True
    ctx.report_progress(force=True)


def wait_for_operations(ctx: RestoreContext) -> None:
    """Wait for the async operations item actions started (bounded by itemOperationTimeout)."""
    if ctx.work.operations_done or not ctx.item_operations:
        return
    ctx.set_phase(step="operations")
    operations.wait_for_item_operations(ctx, (action for action, _ in _restorer(ctx).actions))
    ctx.work.operations_done = True
    ctx.report_progress(force=True)


# -- phase 8 ---------------------------------------------------------------------------------------
def finalize(ctx: RestoreContext, failure: BaseException | str | None = None) -> RestoreResult:
    """Decide the final phase by Velero's rules, write the restore record, release the resources.

    `failure` makes the restore Failed (Velero: the restore could not run, e.g. a corrupt archive).
    """
    if ctx.result is not None:
        return ctx.result
    ctx.set_phase(step="finalize")
    if failure is not None:
        reason = failure if isinstance(failure, str) else failure_reason(failure)
        ctx.failure_reason = reason or "restore failed"
        ctx.results.add_velero_error(ctx.failure_reason)
    elif ctx.cancelled and not ctx.validation_errors:
        ctx.failure_reason = "restore cancelled"
    volumes.delete_data_upload_results(ctx)  # also when the restore stopped before its volumes phase
    if ctx.connected and failure is None and not ctx.cancelled:
        volumes.record_csi_volume_info(ctx)
    phase = _final_phase(ctx)
    ctx.completion_timestamp = datetime.now(UTC)
    if ctx.connected and ctx.cluster.total_retries:
        ctx.log.info("retried %d API calls: %s", ctx.cluster.total_retries, dict(ctx.cluster.retry_counts))
    ctx.log.info("restore %s finished: %s", ctx.name, phase)
    result = RestoreResult(
        name=ctx.name,
        phase=phase,
        backup_name=ctx.backup_name,
        warnings=ctx.results.warning_count,
        errors=ctx.results.error_count,
        counts=ctx.restored.counts(),
        results=ctx.results.to_dict(),
        resource_list=ctx.restored.resource_list(),
        status=status_document(ctx, phase),
        failure_reason=ctx.failure_reason,
        validation_errors=list(ctx.validation_errors),
        retries=ctx.cluster.total_retries if ctx.connected else 0,
    )
    ctx.progress.phase = phase
    ctx.report_progress(force=True)
    _write_record(ctx, result)
    ctx.close()
    ctx.result = result
    return result


def stop(ctx: RestoreContext, error: BaseException) -> RestoreResult:
    """End a restore that an exception stopped (Ctrl-C, a signal, a crash): workers take no new item,
    and the record is written Failed with the log, results and resource list it has, as Velero does."""
    reason = "restore cancelled" if ctx.cancelled else failure_reason(error)
    ctx.cancel.set()
    return finalize(ctx, reason)


def failure_reason(error: BaseException) -> str:
    """A restore's failureReason for what stopped it (`str(KeyboardInterrupt())` is empty)."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted: the restoreflow process running the restore was stopped"
    if not isinstance(error, Exception):  # SystemExit, a termination signal (a stopped worker's)
        cause = f"{type(error).__name__} {error}".rstrip()
        return f"interrupted: the process running the restore was made to exit ({cause})"
    return str(error) or type(error).__name__


def _final_phase(ctx: RestoreContext) -> str:
    if ctx.validation_errors:
        return "FailedValidation"
    if ctx.failure_reason:
        return "Failed"
    return "PartiallyFailed" if ctx.results.error_count else "Completed"


def _write_record(ctx: RestoreContext, result: RestoreResult) -> None:
    if ctx.storage is None or ctx.dry_run:
        return
    records = ctx.storage.restores
    try:
        records.write(
            ctx.name,
            status=result.status,
            results=result.results,
            resource_list=result.resource_list,
            logs=ctx.logs(),
            item_operations=list(ctx.item_operations),
            volume_info=list(ctx.restore_volume_info),
        )
        result.record_url = records.url(ctx.name)
    except Exception as error:
        ctx.log.error("error uploading the restore record to backup storage: %s", error)


# -- everything ------------------------------------------------------------------------------------
def run_restore(
    plan: RestorePlan,
    *,
    restore_name: str,
    backup_name: str | None = None,
    cancel: threading.Event | None = None,
    flow_run_id: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    labels: Mapping[str, str] | None = None,
) -> RestoreResult:
    """Every phase in order, without Prefect; FailedValidation and Failed are returned, not raised.

    Whatever ends the restore, its record is final: a phase that breaks makes it Failed, and Ctrl-C
    (or another BaseException) writes it Failed with what was done before being raised again.
    """
    try:
        ctx = validate(
            plan,
            restore_name=restore_name,
            backup_name=backup_name,
            cancel=cancel,
            flow_run_id=flow_run_id,
            on_progress=on_progress,
            labels=labels,
        )
    except ValidationFailed as failed:
        assert failed.result is not None
        return failed.result
    failure: str | None = None
    try:
        fetch(ctx)
        for group in prepare(ctx):
            restore_group(ctx, group)
        restore_volumes(ctx)
        run_hooks(ctx)
        wait_for_operations(ctx)
        if plan.spec.verify is not None:
            from restoreflow.restore.verify import verify_restore  # it previews: phases come first

            verify_restore(ctx)
    except RestoreCancelled:
        pass
    except Exception as error:  # the engine broke (a corrupt archive, an API fault, a bug): Failed
        failure = failure_reason(error)
    except BaseException as error:
        stop(ctx, error)
        raise
    return finalize(ctx, failure)
