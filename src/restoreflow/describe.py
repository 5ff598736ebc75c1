"""Velero-style text for restores and backups: `get` tables and `describe` reports.

The layout follows the velero CLI (`velero restore get/describe`, `velero backup get/describe`) so
that Velero users read it at a glance: kubectl-style tables, tab-aligned reports, Go's time and
duration formats. Everything works on plain data (restore status documents, results and resource
lists as stored in the BSL, `BackupRecord`s), so the read-only commands stay fast and never import
Prefect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from restoreflow.kube.durations import format_duration

NONE = "<none>"
RESTORE_COLUMNS = (
    "NAME",
    "BACKUP",
    "STATUS",
    "STARTED",
    "COMPLETED",
    "ERRORS",
    "WARNINGS",
    "CREATED",
    "SELECTOR",
)
BACKUP_COLUMNS = (
    "NAME",
    "STATUS",
    "ERRORS",
    "WARNINGS",
    "CREATED",
    "EXPIRES",
    "STORAGE LOCATION",
    "SELECTOR",
)
FAILED_PHASES = ("Failed", "PartiallyFailed")


# -- Go's text/tabwriter, as kubectl and velero use it -------------------------------------------


def tabulate(text: str, *, minwidth: int = 0, padding: int = 2) -> str:
    """Align tab-separated cells the way Go's text/tabwriter does (column blocks of adjacent lines)."""
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    _format_block(lines, 0, len(lines), [], minwidth, padding, out)
    return "\n".join(out)


def _format_block(
    lines: list[list[str]],
    start: int,
    end: int,
    widths: list[int],
    minwidth: int,
    padding: int,
    out: list[str],
) -> None:
    column = len(widths)
    this = start
    while this < end:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _write_lines(lines, start, this, widths, out)
        start = this
        width = minwidth
        while this < end and column < len(lines[this]) - 1:
            width = max(width, len(lines[this][column]) + padding)
            this += 1
        _format_block(lines, start, this, [*widths, width], minwidth, padding, out)
        start = this
    _write_lines(lines, start, end, widths, out)


def _write_lines(lines: list[list[str]], start: int, end: int, widths: list[int], out: list[str]) -> None:
    for cells in lines[start:end]:
        out.append(
            "".join(cell.ljust(widths[j]) if j < len(widths) else cell for j, cell in enumerate(cells))
        )


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A kubectl table: columns padded by three spaces, no trailing blanks."""
    body = "\n".join("\t".join(row) for row in [header, *rows])
    return "\n".join(line.rstrip() for line in tabulate(body, minwidth=6, padding=3).split("\n")) + "\n"


# -- Go formats ----------------------------------------------------------------------------------


def as_datetime(value: Any) -> datetime | None:
    """An aware datetime from a datetime or an RFC 3339 string; None when absent."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return as_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def go_time(value: Any, missing: str = "<nil>") -> str:
    """Go's `time.Time.String()` in UTC: `2026-11-25 13:18:00 +0000 UTC`."""
    when = as_datetime(value)
    if when is None:
        return missing
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def short_human_duration(delta: timedelta) -> str:
    """Kubernetes' ShortHumanDuration: `45s`, `12m`, `5h`, `29d`, `3y`."""
    seconds = int(delta.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    if seconds < 365 * 86400:
        return f"{seconds // 86400}d"
    return f"{seconds // (365 * 86400)}y"


def time_from_now(value: Any, now: datetime | None = None) -> str:
    """Velero's EXPIRES column: `29d` ahead, `5d ago` behind, `n/a` when unset."""
    when = as_datetime(value)
    if when is None:
        return "n/a"
    now = now or datetime.now(UTC)
    if when >= now:
        return short_human_duration(when - now)
    return f"{short_human_duration(now - when)} ago"


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """Kubernetes' FormatLabelSelector: `app=shop,tier in (db,web),!legacy`, `<none>` when empty."""
    if not selector:
        return NONE
    requirements: list[tuple[str, str]] = [
        (key, f"{key}={value}") for key, value in (selector.get("matchLabels") or {}).items()
    ]
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = (
            expr.get("key", ""),
            expr.get("operator", ""),
            sorted(expr.get("values") or []),
        )
        text = {
            "In": f"{key} in ({','.join(values)})",
            "NotIn": f"{key} notin ({','.join(values)})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(operator, f"{key} {operator}")
        requirements.append((key, text))
    return ",".join(text for _, text in sorted(requirements, key=lambda r: r[0])) or NONE


def byte_size(count: int) -> str:
    """Bytes for a person: 512 B, 10.0 MiB (binary units; velero prints bare byte counts)."""
    value, unit = float(count), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            break
        value /= 1024
    return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"


def bool_text(value: bool | None, false: str, true: str, unset: str) -> str:
    """Velero's BoolPointerString."""
    return unset if value is None else (true if value else false)


def cluster_scoped(value: bool | None) -> str:
    return bool_text(value, "excluded", "included", "auto")


# -- Describer: velero's tab-aligned reports -----------------------------------------------------


class Describer:
    """Collects lines with tabs; `text()` aligns them like velero's describer (tabwriter, padding 2)."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def printf(self, text: str) -> None:
        self._parts.append(text)

    def blank(self) -> None:
        self._parts.append("\n")

    def map(self, name: str, values: Mapping[str, Any] | None) -> None:
        if not values:
            self.printf(f"{name}:\t{NONE}\n")
            return
        for i, key in enumerate(sorted(values)):
            self.printf(f"{name + ':' if i == 0 else ''}\t{key}={values[key]}\n")

    def slice(self, indent: int, name: str, values: Sequence[str]) -> None:
        tabs = "\t" * indent
        self.printf(f"{tabs}{name}:\t")
        if not values:
            self.printf(f"{tabs}{NONE}\n")
            return
        for i, value in enumerate(values):
            self.printf(f"{tabs + chr(9) if i else ''}{value}\n")

    def text(self) -> str:
        return tabulate("".join(self._parts))


# -- restores ------------------------------------------------------------------------------------


def _status(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return record.get("status") or {}


def _spec(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return record.get("spec") or {}


def restore_phase(record: Mapping[str, Any]) -> str:
    return _status(record).get("phase") or "New"


def restore_table(
    records: Sequence[Mapping[str, Any]], label_columns: Sequence[str] = (), show_labels: bool = False
) -> str:
    """`velero restore get`: one row per restore record."""
    header = [*RESTORE_COLUMNS, *(c.upper() for c in label_columns), *(["LABELS"] if show_labels else [])]
    rows = []
    for record in records:
        meta, spec, status = record.get("metadata") or {}, _spec(record), _status(record)
        labels = meta.get("labels") or {}
        rows.append(
            [
                meta.get("name", ""),
                spec.get("backupName") or "",
                restore_phase(record),
                go_time(status.get("startTimestamp")),
                go_time(status.get("completionTimestamp")),
                str(status.get("errors") or 0),
                str(status.get("warnings") or 0),
                go_time(meta.get("creationTimestamp") or status.get("startTimestamp")),
                format_label_selector(spec.get("labelSelector")),
                *(labels.get(c, "") for c in label_columns),
                *([",".join(f"{k}={v}" for k, v in sorted(labels.items())) or NONE] if show_labels else []),
            ]
        )
    return table(header, rows)


def describe_restore(
    record: Mapping[str, Any],
    *,
    results: Mapping[str, Any] | None = None,
    resource_list: Mapping[str, Sequence[str]] | None = None,
    details: bool = False,
    command: str = "restoreflow restore",
    item_operations: Sequence[Mapping[str, Any]] | None = None,
    volume_info: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """`velero restore describe`: phase, progress, times, problems, the spec, hooks, resources."""
    meta, spec, status = record.get("metadata") or {}, _spec(record), _status(record)
    name, phase = meta.get("name", ""), restore_phase(record)
    d = Describer()
    d.printf(f"Name:\t{name}\n")
    d.map("Labels", meta.get("labels"))
    d.map("Annotations", meta.get("annotations"))
    d.blank()
    note = f" (run '{command} logs {name}' for more information)" if phase in FAILED_PHASES else ""
    d.printf(f"Phase:\t{phase}{note}\n")
    _describe_progress(d, phase, status.get("progress"))
    d.blank()
    d.printf(f"Started:\t{go_time(status.get('startTimestamp'), '<n/a>')}\n")
    d.printf(f"Completed:\t{go_time(status.get('completionTimestamp'), '<n/a>')}\n")
    if status.get("failureReason"):
        d.blank()
        d.printf(f"Failure reason:\t{status['failureReason']}\n")
    if status.get("validationErrors"):
        d.blank()
        d.printf("Validation errors:")
        for problem in status["validationErrors"]:
            d.printf(f"\t{problem}\n")
    _describe_verification(d, status.get("verification"))
    _describe_results(d, status, results or {})
    _describe_source(d, spec, status)
    _describe_spec(d, spec)
    _describe_policies(d, spec, status, volume_info, details)
    _describe_outcome(d, status, item_operations if details else None)
    if details:
        _describe_resource_list(d, resource_list)
        d.blank()
    return d.text()


def _describe_verification(d: Describer, verification: Mapping[str, Any] | None) -> None:
    """restoreflow's verify phase: its verdict, and why it failed (each problem is among the errors)."""
    if not verification:
        return
    reason = f" ({verification['reason']})" if verification.get("reason") else ""
    d.blank()
    d.printf(f"Verification:\t{verification.get('phase', '')}{reason}\n")


def _describe_progress(d: Describer, phase: str, progress: Mapping[str, Any] | None) -> None:
    if not progress:
        return
    total, done = progress.get("totalItems", 0), progress.get("itemsRestored", 0)
    if phase == "InProgress":
        d.printf(f"Estimated total items to be restored:\t{total}\nItems restored so far:\t{done}\n")
    else:
        d.printf(f"Total items to be restored:\t{total}\nItems restored:\t{done}\n")


def _describe_results(d: Describer, status: Mapping[str, Any], results: Mapping[str, Any]) -> None:
    for title, key, count in (("Warnings", "warnings", "warnings"), ("Errors", "errors", "errors")):
        if not status.get(count):
            continue
        result = results.get(key) or {}
        d.blank()
        d.printf(f"{title}:\n")
        d.slice(1, "Velero", result.get("velero") or [])
        d.slice(1, "Cluster", result.get("cluster") or [])
        namespaces = result.get("namespaces") or {}
        if not namespaces:
            d.printf(f"\tNamespaces: {NONE}\n")
            continue
        d.printf("\tNamespaces:\n")
        for namespace in sorted(namespaces):
            d.slice(2, namespace, namespaces[namespace])


def _describe_source(d: Describer, spec: Mapping[str, Any], status: Mapping[str, Any]) -> None:
    d.blank()
    d.printf(f"Backup:\t{spec.get('backupName') or ''}\n")
    if spec.get("scheduleName"):
        d.printf(f"Schedule:\t{spec['scheduleName']}\n")
    plan = spec.get("plan") or NONE
    d.printf(f"Plan:\t{plan}{' (' + spec['planFile'] + ')' if spec.get('planFile') else ''}\n")
    d.printf(f"Storage Location:\t{spec.get('storageLocation') or NONE}\n")
    target = spec.get("target") or {}
    d.printf(f"Target:\tkubeconfig {target.get('kubeconfig') or 'default'}, ")
    d.printf(f"context {target.get('context') or 'current'}\n")
    if status.get("flowRunId"):
        d.printf(f"Flow run:\t{status['flowRunId']}\n")


def _join(values: Sequence[str] | None, empty: str) -> str:
    return ", ".join(values) if values else empty


def _describe_spec(d: Describer, spec: Mapping[str, Any]) -> None:
    included = spec.get("includedNamespaces") or []
    d.blank()
    d.printf("Namespaces:\n")
    all_namespaces = not included or list(included) == ["*"]
    d.printf(
        f"\tIncluded:\t{'all namespaces found in the backup' if all_namespaces else ', '.join(included)}\n"
    )
    d.printf(f"\tExcluded:\t{_join(spec.get('excludedNamespaces'), NONE)}\n")
    d.blank()
    d.printf("Resources:\n")
    d.printf(f"\tIncluded:\t{_join(spec.get('includedResources'), '*')}\n")
    d.printf(f"\tExcluded:\t{_join(spec.get('excludedResources'), NONE)}\n")
    d.printf(f"\tCluster-scoped:\t{cluster_scoped(spec.get('includeClusterResources'))}\n")
    d.blank()
    d.map("Namespace mappings", spec.get("namespaceMapping"))
    d.blank()
    selector = spec.get("labelSelector")
    d.printf(f"Label selector:\t{format_label_selector(selector) if selector else NONE}\n")
    d.blank()
    or_selectors = spec.get("orLabelSelectors") or []
    d.printf(f"Or label selector:\t{' or '.join(map(format_label_selector, or_selectors)) or NONE}\n")
    d.blank()
    d.printf(f"Restore PVs:\t{bool_text(spec.get('restorePVs'), 'false', 'true', 'auto')}\n")


def _describe_policies(
    d: Describer,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    volume_info: Sequence[Mapping[str, Any]] | None,
    details: bool,
) -> None:
    volumes = status.get("podVolumeRestores") or {}
    if volumes.get("attempted"):
        d.blank()
        d.printf("Pod Volume Restores:\n")
        pending = volumes["attempted"] - volumes.get("completed", 0) - volumes.get("failed", 0)
        for label, count in (("Completed", volumes.get("completed")), ("Failed", volumes.get("failed"))):
            if count:
                d.printf(f"\t{label}:\t{count}\n")
        if pending > 0:
            d.printf(f"\tIn Progress:\t{pending}\n")
    if volume_info is not None:
        _describe_csi_restores(d, volume_info, details)
    d.blank()
    d.printf(f"Existing Resource Policy: \t{spec.get('existingResourcePolicy') or NONE}\n")
    d.printf(f"ItemOperationTimeout:\t{_duration_field(spec.get('itemOperationTimeout'))}\n")
    d.blank()
    d.printf(
        f"Preserve Service NodePorts:\t{bool_text(spec.get('preserveNodePorts'), 'false', 'true', 'auto')}\n"
    )
    uploader = spec.get("uploaderConfig") or {}
    if uploader.get("writeSparseFiles"):
        d.blank()
        d.printf("Uploader config:\n\tWrite Sparse Files:\ttrue\n")


CSI_SNAPSHOT_FIELDS = (
    ("Snapshot Content Name", "vscName"),
    ("Storage Snapshot ID", "snapshotHandle"),
    ("CSI Driver", "driver"),
)
DATA_MOVEMENT_FIELDS = (
    ("Operation ID", "operationID"),
    ("Data Mover", "dataMover"),
    ("Uploader Type", "uploaderType"),
)


def _describe_csi_restores(d: Describer, volume_info: Sequence[Mapping[str, Any]], details: bool) -> None:
    """Velero's "CSI Snapshot Restores", from the restore's volume info: snapshots, then data movement."""
    csi = [v for v in volume_info if v.get("restoreMethod") == "CSISnapshot"]
    snapshots = [v for v in csi if not v.get("snapshotDataMoved")]
    moved = [v for v in csi if v.get("snapshotDataMoved")]
    d.blank()
    if not csi:
        d.printf("CSI Snapshot Restores: <none included>\n")
        return
    d.printf("CSI Snapshot Restores:\n")
    for infos, title, key, fields in (
        (snapshots, "Snapshot", "csiSnapshotInfo", CSI_SNAPSHOT_FIELDS),
        (moved, "Data Movement", "snapshotDataMovementInfo", DATA_MOVEMENT_FIELDS),
    ):
        for info in infos:
            d.printf(f"\t{info.get('pvcNamespace', '')}/{info.get('pvcName', '')}:\n")
            if not details:
                d.printf(f"\t\t{title}: specify --details for more information\n")
                continue
            d.printf(f"\t\t{title}:\n")
            for label, field in fields:
                d.printf(f"\t\t\t{label}: {(info.get(key) or {}).get(field, '')}\n")


def _describe_outcome(
    d: Describer, status: Mapping[str, Any], item_operations: Sequence[Mapping[str, Any]] | None
) -> None:
    counts = status.get("counts")
    if counts:
        d.blank()
        d.printf("Items:\n")
        for key in ("created", "updated", "skipped", "failed"):
            d.printf(f"\t{key.capitalize()}:\t{counts.get(key, 0)}\n")
    _describe_item_operations(d, status, item_operations)
    hooks = status.get("hookStatus")
    if hooks is not None:
        d.blank()
        d.printf(f"HooksAttempted: \t{hooks.get('hooksAttempted', 0)}\n")
        d.printf(f"HooksFailed: \t{hooks.get('hooksFailed', 0)}\n")


def _describe_item_operations(
    d: Describer, status: Mapping[str, Any], operations: Sequence[Mapping[str, Any]] | None
) -> None:
    """Velero's "Restore Item Operations": counts, or each operation with --details."""
    attempted = status.get("restoreItemOperationsAttempted", 0)
    if not attempted:
        return
    d.blank()
    if operations is None:
        completed, failed = (status.get(f"restoreItemOperations{k}", 0) for k in ("Completed", "Failed"))
        d.printf(
            f"Restore Item Operations:\t{completed} of {attempted} completed successfully, {failed} failed "
            "(specify --details for more information)\n"
        )
        return
    d.printf("Restore Item Operations:\n")
    for operation in operations:
        spec, op = operation.get("spec") or {}, operation.get("status") or {}
        target = spec.get("resourceIdentifier") or {}
        group_resource = ".".join(p for p in (target.get("Resource"), target.get("Group")) if p)
        namespace, name = target.get("Namespace", ""), target.get("Name", "")
        d.printf(f"\tOperation for {group_resource} {namespace}/{name}:\n")
        d.printf(f"\t\tRestore Item Action Plugin:\t{spec.get('restoreItemAction', '')}\n")
        d.printf(f"\t\tOperation ID:\t{spec.get('operationID', '')}\n")
        d.printf(f"\t\tPhase:\t{op.get('phase', '')}\n")
        if op.get("error"):
            d.printf(f"\t\tOperation Error:\t{op['error']}\n")
        if op.get("nTotal") or op.get("nCompleted"):
            done, total, units = op.get("nCompleted", 0), op.get("nTotal", 0), op.get("operationUnits", "")
            d.printf(f"\t\tProgress:\t{done} of {total} complete ({units})\n")
        if op.get("description"):
            d.printf(f"\t\tProgress description:\t{op['description']}\n")
        for key in ("created", "started", "updated"):
            if op.get(key):
                d.printf(f"\t\t{key.capitalize()}:\t{go_time(op[key])}\n")


def _duration_field(value: Any) -> str:
    """Plan durations are Go duration strings already; numbers are seconds."""
    if isinstance(value, int | float):
        return format_duration(float(value))
    return str(value) if value else "0s"


def _describe_resource_list(d: Describer, resource_list: Mapping[str, Sequence[str]] | None) -> None:
    if resource_list is None:
        d.printf("Resource List:\t<restore resource list not found>\n")
        return
    d.printf("Resource List:\n")
    for gvk in sorted(resource_list):
        items = "\n\t\t- ".join(resource_list[gvk])
        d.printf(f"\t{gvk}:\n\t\t- {items}\n")


def restore_data(
    record: Mapping[str, Any],
    *,
    results: Mapping[str, Any] | None = None,
    resource_list: Mapping[str, Sequence[str]] | None = None,
    details: bool = False,
) -> dict[str, Any]:
    """`describe -o json|yaml`: the restore record plus its results (and resource list with details)."""
    data = dict(record)
    data["results"] = dict(results or {})
    if details:
        data["resourceList"] = dict(resource_list or {})
    return data


def as_list(kind: str, items: Sequence[Mapping[str, Any]], api_version: str) -> Mapping[str, Any]:
    """Velero prints a single object bare and several as a `<Kind>List`."""
    if len(items) == 1:
        return items[0]
    return {"apiVersion": api_version, "kind": f"{kind}List", "metadata": {}, "items": list(items)}


# -- backups -------------------------------------------------------------------------------------

_TIMESTAMP_SUFFIX = re.compile(r"-[0-9]{14}$")


def sort_backups(backups: Sequence[Any]) -> list[Any]:
    """Velero's order: by name, but a schedule's backups (`<name>-<timestamp>`) newest first."""

    def key(backup: Any) -> tuple[str, int, str]:
        match = _TIMESTAMP_SUFFIX.search(backup.name)
        if not match:
            return (backup.name, 0, "")
        suffix = backup.name[match.start() + 1 :]
        return (backup.name[: match.start()], 1, str(99999999999999 - int(suffix)).zfill(14))

    return sorted(backups, key=key)


def _backup_counts(backup: Any) -> tuple[int, int]:
    status = (backup.raw or {}).get("status") or {}
    return int(status.get("errors") or 0), int(status.get("warnings") or 0)


def backup_table(backups: Sequence[Any], now: datetime | None = None) -> str:
    """`velero backup get`."""
    rows = []
    for backup in sort_backups(backups):
        errors, warnings = _backup_counts(backup)
        spec = (backup.raw or {}).get("spec") or {}
        rows.append(
            [
                backup.name,
                backup.phase or "New",
                str(errors),
                str(warnings),
                go_time(backup.start_timestamp),
                time_from_now(backup.expiration, now),
                backup.storage_location or "",
                format_label_selector(spec.get("labelSelector")),
            ]
        )
    return table(BACKUP_COLUMNS, rows)


def describe_backup(
    backup: Any,
    *,
    resource_list: Mapping[str, Sequence[str]] | None = None,
    pod_volume_backups: Sequence[Mapping[str, Any]] = (),
    volume_snapshots: Sequence[Mapping[str, Any]] = (),
    details: bool = False,
) -> str:
    """`velero backup describe`: phase, spec, status, volumes (and the resource list with details)."""
    raw = backup.raw or {}
    meta, spec, status = raw.get("metadata") or {}, raw.get("spec") or {}, raw.get("status") or {}
    d = Describer()
    d.printf(f"Name:\t{backup.name}\n")
    d.printf(f"Namespace:\t{meta.get('namespace') or ''}\n")
    d.map("Labels", meta.get("labels"))
    d.map("Annotations", meta.get("annotations"))
    d.blank()
    phase = backup.phase or "New"
    note = f" (run `velero backup logs {backup.name}` for more information)" if phase in FAILED_PHASES else ""
    d.printf(f"Phase:\t{phase}{note}\n")
    if status.get("validationErrors"):
        d.blank()
        d.printf("Validation errors:")
        for problem in status["validationErrors"]:
            d.printf(f"\t{problem}\n")
    errors, warnings = _backup_counts(backup)
    d.blank()
    d.printf(f"Errors:\t{errors}\nWarnings:\t{warnings}\n")
    d.blank()
    d.printf("Namespaces:\n")
    d.printf(f"\tIncluded:\t{_join(list(backup.included_namespaces), '*')}\n")
    d.printf(f"\tExcluded:\t{_join(list(backup.excluded_namespaces), NONE)}\n")
    d.blank()
    d.printf("Resources:\n")
    d.printf(f"\tIncluded:\t{_join(list(backup.included_resources), '*')}\n")
    d.printf(f"\tExcluded:\t{_join(list(backup.excluded_resources), NONE)}\n")
    d.printf(f"\tCluster-scoped:\t{cluster_scoped(spec.get('includeClusterResources'))}\n")
    d.blank()
    d.printf(f"Label selector:\t{format_label_selector(spec.get('labelSelector'))}\n")
    d.blank()
    d.printf(f"Storage Location:\t{backup.storage_location or ''}\n")
    if backup.schedule_name:
        d.blank()
        d.printf(f"Schedule:\t{backup.schedule_name}\n")
    d.blank()
    d.printf(f"Backup Format Version:\t{backup.format_version}\n")
    d.blank()
    d.printf(f"Started:\t{go_time(backup.start_timestamp, '<n/a>')}\n")
    d.printf(f"Completed:\t{go_time(backup.completion_timestamp, '<n/a>')}\n")
    d.blank()
    d.printf(f"Expiration:\t{go_time(backup.expiration)}\n")
    progress = status.get("progress")
    if progress:
        d.blank()
        d.printf(f"Total items to be backed up:\t{progress.get('totalItems', 0)}\n")
        d.printf(f"Items backed up:\t{progress.get('itemsBackedUp', 0)}\n")
    if details:
        d.blank()
        if resource_list:
            d.printf("Resource List:\n")
            for gvk in sorted(resource_list):
                items = "\n\t\t- ".join(resource_list[gvk])
                d.printf(f"\t{gvk}:\n\t\t- {items}\n")
        else:
            d.printf("Resource List:\t<backup resource list not found>\n")
    d.blank()
    _describe_backup_volumes(d, volume_snapshots, pod_volume_backups, details)
    return d.text()


def _describe_backup_volumes(
    d: Describer,
    volume_snapshots: Sequence[Mapping[str, Any]],
    pod_volume_backups: Sequence[Mapping[str, Any]],
    details: bool,
) -> None:
    if volume_snapshots:
        d.printf(f"Velero-Native Snapshots:\t{len(volume_snapshots)} snapshots\n")
        if details:
            for snap in volume_snapshots:
                d.printf(f"\t{(snap.get('spec') or {}).get('persistentVolumeName', '')}:\n")
                d.printf(f"\t\tSnapshot ID:\t{(snap.get('status') or {}).get('providerSnapshotID', '')}\n")
    else:
        d.printf("Velero-Native Snapshots: <none included>\n")
    if not pod_volume_backups:
        return
    d.blank()
    uploader = (pod_volume_backups[0].get("spec") or {}).get("uploaderType") or "kopia"
    more = "" if details else " (specify --details for more information)"
    d.printf(f"{uploader} Backups{more}:\n")
    by_phase: dict[str, list[str]] = {}
    for pvb in pod_volume_backups:
        pvb_spec = pvb.get("spec") or {}
        pod = pvb_spec.get("pod") or {}
        phase = (pvb.get("status") or {}).get("phase") or "New"
        by_phase.setdefault(phase, []).append(
            f"{pod.get('namespace', '')}/{pod.get('name', '')}: {pvb_spec.get('volume', '')}"
        )
    for phase in sorted(by_phase):
        if details:
            d.printf(f"\t{phase}:\n")
            for line in sorted(by_phase[phase]):
                d.printf(f"\t\t{line}\n")
        else:
            d.printf(f"\t{phase}:\t{len(by_phase[phase])}\n")
