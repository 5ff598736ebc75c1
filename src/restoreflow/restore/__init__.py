"""The restore engine: plain Python phases over a RestoreContext (no Prefect, no CLI).

    ctx = validate(plan, restore_name=...)      # FailedValidation -> ValidationFailed
    fetch(ctx); groups = prepare(ctx)           # groups: ordered, filtered, before any write
    for group in groups: restore_group(ctx, group)
    absorb_group(ctx, group, data)              # on a retry, instead: an earlier outcome.to_dict()
    restore_volumes(ctx); run_hooks(ctx); wait_for_operations(ctx)
    result = finalize(ctx)                      # final phase, counts, the restore record
    stop(ctx, error)                            # Ctrl-C or a crash: the record Failed, with its log

`run_restore(plan, ...)` runs them all.
"""

from restoreflow.restore.context import BackupContents, HookStatus, Progress, RestoreContext
from restoreflow.restore.outcomes import GroupOutcome
from restoreflow.restore.phases import (
    RestoreCancelled,
    ValidationFailed,
    absorb_group,
    fetch,
    finalize,
    prepare,
    restore_group,
    restore_volumes,
    run_hooks,
    run_restore,
    stop,
    validate,
    wait_for_operations,
)
from restoreflow.restore.record import RestoreResult
from restoreflow.restore.results import Results
from restoreflow.restore.selection import ItemRef, ResourceGroup

__all__ = [
    "BackupContents",
    "GroupOutcome",
    "HookStatus",
    "ItemRef",
    "Progress",
    "ResourceGroup",
    "RestoreCancelled",
    "RestoreContext",
    "RestoreResult",
    "Results",
    "ValidationFailed",
    "absorb_group",
    "fetch",
    "finalize",
    "prepare",
    "restore_group",
    "restore_volumes",
    "run_hooks",
    "run_restore",
    "stop",
    "validate",
    "wait_for_operations",
]
