"""`restoreflow backup get|describe`: the backups of a storage location, as `velero backup` shows them.

Read-only and Prefect-free. The storage location comes from `--storage-location` or
`RESTOREFLOW_STORAGE_LOCATION`; both commands also accept the cluster flags, like every restore and
backup command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any

from restoreflow.cli.common import (
    CliError,
    add_location_flags,
    add_output_flag,
    add_verb,
    completes,
    print_data,
)

STORAGE_ENV = "RESTOREFLOW_STORAGE_LOCATION"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="backup_command", metavar="COMMAND", required=True)

    get = add_verb(
        sub,
        "get",
        help="get backups",
        description="List the backups of a storage location.",
        epilog="examples:\n  restoreflow backup get --storage-location s3://velero-backups/prod\n"
        "  RESTOREFLOW_STORAGE_LOCATION=.demo/backups restoreflow backup get -o yaml\n",
    )
    completes(get.add_argument("names", nargs="*", metavar="NAME", help="only these backups"), "backups")
    get.add_argument("-l", "--selector", help="only show backups matching this label selector")
    add_output_flag(get)
    add_location_flags(get)
    get.set_defaults(handler=get_backups)

    describe = add_verb(
        sub,
        "describe",
        help="describe backups",
        description="Describe backups.",
        epilog="examples:\n  restoreflow backup describe demo-backup --details\n"
        "  restoreflow backup describe b1 b2 -o json   # a List, like get\n",
    )
    completes(describe.add_argument("names", nargs="+", metavar="NAME"), "backups")
    describe.add_argument("--details", action="store_true", help="display additional detail")
    add_output_flag(describe)
    add_location_flags(describe)
    describe.set_defaults(handler=describe_backups)


def open_storage(url: str | None, options: Mapping[str, Any] | None = None) -> Any:
    """The BSL from a flag, the plan or the environment; a CliError that says what to do otherwise."""
    from restoreflow.backup import BackupError, BackupStorage
    from restoreflow.orchestration import server
    from restoreflow.orchestration.crashes import PrefectRuns

    url = url or os.environ.get(STORAGE_ENV)
    if not url:
        raise CliError(f"no backup storage location: pass --storage-location URL or set {STORAGE_ENV}")
    try:
        storage = BackupStorage.open(url, options)
    except BackupError as err:
        raise CliError(str(err)) from None
    # A restore whose process died: its record Failed, its flow run Crashed.
    storage.runs = PrefectRuns(server.existing_api)
    return storage


def selected(labels: Mapping[str, str] | None, selector: str | None) -> bool:
    """Whether labels match a `-l` selector (Kubernetes syntax)."""
    if not selector:
        return True
    from restoreflow.kube.selectors import SelectorError, parse_selector

    try:
        return parse_selector(selector).matches(labels or {})
    except SelectorError as err:
        raise CliError(f"invalid selector {selector!r}: {err}") from None


def _backups(storage: Any, names: list[str]) -> list[Any]:
    from restoreflow.backup import BackupError

    try:
        return [storage.get_backup(name) for name in names] if names else storage.list_backups()
    except BackupError as err:
        raise CliError(str(err)) from None


def get_backups(args: argparse.Namespace) -> int:
    from restoreflow.describe import as_list, backup_table

    storage = open_storage(args.storage_location)
    backups = [
        b
        for b in _backups(storage, args.names)
        if selected((b.raw.get("metadata") or {}).get("labels"), args.selector)
    ]
    if args.output == "table":
        if not backups:
            _say_none_found(storage)
            return 0
        print(backup_table(backups), end="")
    else:
        print_data(as_list("Backup", [dict(b.raw) for b in backups], "velero.io/v1"), args.output)
    return 0


def _say_none_found(storage: Any) -> None:
    """Like kubectl's "No resources found": on stderr, with a hint when the folder is not a BSL root."""
    print(f"No backups found in backup storage location {storage.url}", file=sys.stderr)
    if not storage.fs.exists(storage.path("backups")):
        print(
            "  (it has no backups/ folder: a storage location is the folder holding backups/ and restores/)",
            file=sys.stderr,
        )


def describe_backups(args: argparse.Namespace) -> int:
    from restoreflow.backup import BackupError
    from restoreflow.describe import as_list, describe_backup

    storage = open_storage(args.storage_location)
    documents, texts = [], []
    for backup in _backups(storage, args.names):
        try:
            extra = {
                "resource_list": storage.resource_list(backup) if args.details else None,
                "pod_volume_backups": storage.pod_volume_backups(backup),
                "volume_snapshots": storage.volume_snapshots(backup),
            }
        except BackupError as err:
            raise CliError(str(err)) from None
        texts.append(describe_backup(backup, details=args.details, **extra))
        documents.append(
            {
                **backup.raw,
                "podVolumeBackups": extra["pod_volume_backups"],
                "volumeSnapshots": extra["volume_snapshots"],
                **({"resourceList": extra["resource_list"] or {}} if args.details else {}),
            }
        )
    if args.output == "table":
        print("\n\n".join(texts), end="")
    else:
        print_data(as_list("Backup", documents, "velero.io/v1"), args.output)  # several: a List, like get
    return 0
