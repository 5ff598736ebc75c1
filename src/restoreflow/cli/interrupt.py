"""Ctrl-C during `restore create --wait`: the record is left final and readable, never InProgress."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from restoreflow.cli.progress import FINAL_PHASES

if TYPE_CHECKING:
    from restoreflow.cli.create_request import CreateRequest

INTERRUPTED = "interrupted: the restoreflow process running the restore was stopped"


def mark_interrupted(request: CreateRequest) -> None:
    """Ctrl-C stopped the restore with this process. The flow has written the record Failed with its
    log, results and resource list; if Ctrl-C came where the flow could not, finish the record here."""
    from restoreflow.backup import BackupError

    try:
        record = request.storage.restores.get(request.name)
    except BackupError:
        return  # interrupted before the restore began
    phase = (record.get("status") or {}).get("phase")
    if phase not in FINAL_PHASES:
        _record_interruption(request.storage.restores, request.name, record)
        phase = "Failed"
    if phase == "Failed":
        print(f'Restore "{request.name}" interrupted; marked Failed.', file=sys.stderr)
    else:
        print(f'Restore "{request.name}" interrupted after it ended {phase}.', file=sys.stderr)


def _record_interruption(records: Any, name: str, record: dict[str, Any]) -> None:
    """Mark an unfinished record Failed, keeping what it has and adding the interruption to its
    errors and log, so that `restore describe` and `restore logs` tell what happened."""
    from restoreflow.backup import BackupError

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts: dict[str, Any] = {"results": {}, "resource_list": {}, "item_operations": [], "volume_info": []}
    try:
        parts = {part: getattr(records, part)(name) for part in parts}
        log = records.logs(name)
    except BackupError:  # a damaged part: the interruption is still recorded
        log = ""
    errors = parts["results"].setdefault("errors", {})
    errors["velero"] = [*errors.get("velero", []), INTERRUPTED]
    status = record.get("status") or {}
    record["status"] = {
        **status,
        "phase": "Failed",
        "failureReason": INTERRUPTED,
        "completionTimestamp": now,
        "errors": int(status.get("errors") or 0) + 1,
    }
    log += f'time="{now}" level=error msg="Velero restore error: {INTERRUPTED}" restore={name}\n'
    records.write(name, status=record, logs=log, **parts)
