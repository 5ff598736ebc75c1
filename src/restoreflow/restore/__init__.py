"""The restore engine: plain Python phases over a RestoreContext (no Prefect, no CLI).

    ctx = validate(plan, restore_name=...)      # FailedValidation -> ValidationFailed
    fetch(ctx); groups = prepare(ctx)           # groups: ordered, filtered, before any write
    for group in groups: restore_group(ctx, group)
    restore_volumes(ctx); run_hooks(ctx)
    result = finalize(ctx)                      # final phase, counts, the restore record

`run_restore(plan, ...)` runs them all.
"""

from restoreflow.restore.context import BackupContents, HookStatus, Progress, RestoreContext
from restoreflow.restore.phases import (
    GroupOutcome,
    RestoreCancelled,
    ValidationFailed,
    fetch,
    finalize,
    prepare,
    restore_group,
    restore_volumes,
    run_hooks,
    run_restore,
    validate,
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
    "fetch",
    "finalize",
    "prepare",
    "restore_group",
    "restore_volumes",
    "run_hooks",
    "run_restore",
    "validate",
]
