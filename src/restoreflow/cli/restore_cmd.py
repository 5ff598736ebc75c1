"""`restoreflow restore create|get|describe|logs|delete`: Velero's verbs over restoreflow's plans.

`create` lives in `create_cmd` (its flags in `create_flags`). `get`, `describe`, `logs` and `delete`
read the restore records in the storage location and import Prefect only to end Crashed the flow
run of a restore whose process they find dead (`orchestration/crashes.py`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from restoreflow import API_VERSION
from restoreflow.cli.backup_cmd import open_storage, selected
from restoreflow.cli.common import (
    CliError,
    add_location_flags,
    add_output_flag,
    add_verb,
    completes,
    print_data,
    print_restores,
)
from restoreflow.cli.create_cmd import create_restore
from restoreflow.cli.create_flags import register_create, string_array

EXAMPLES = {
    "get": """examples:
  restoreflow restore get                       # every restore in the storage location
  restoreflow restore get -l team=shop --show-labels
  restoreflow restore get shop-restore -o yaml
""",
    "describe": """examples:
  restoreflow restore describe shop-restore --details
  restoreflow restore describe -l team=shop -o json   # a List, like get
""",
    "logs": """examples:
  restoreflow restore logs shop-restore | grep level=error
""",
    "delete": """examples:
  restoreflow restore delete shop-restore --confirm   # the record only; restored objects stay
  restoreflow restore delete --all
""",
}


def _verb(sub: Any, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    return add_verb(
        sub,
        name,
        help=help_text,
        description=description,
        epilog=EXAMPLES[name],
    )


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="restore_command", metavar="COMMAND", required=True)
    register_create(sub).set_defaults(handler=create_restore)

    get = _verb(sub, "get", "get restores", "List restores from their records.")
    completes(get.add_argument("names", nargs="*", metavar="NAME"), "restores")
    get.add_argument("-l", "--selector", help="only show restores matching this label selector")
    _add_list_output_flags(get)
    add_location_flags(get)
    get.set_defaults(handler=get_restores)

    describe = _verb(sub, "describe", "describe restores", "Describe restores.")
    completes(describe.add_argument("names", nargs="*", metavar="NAME"), "restores")
    describe.add_argument("-l", "--selector", help="only describe restores matching this label selector")
    describe.add_argument(
        "--details", action="store_true", help="display additional detail (per-resource list)"
    )
    add_output_flag(describe)
    add_location_flags(describe)
    describe.set_defaults(handler=describe_restores)

    logs = _verb(sub, "logs", "get restore logs", "Print a restore's log.")
    completes(logs.add_argument("name", metavar="NAME"), "restores")
    add_location_flags(logs)
    logs.set_defaults(handler=restore_logs)

    delete = _verb(
        sub,
        "delete",
        "delete restores",
        "Delete restore records and their files. Restored cluster objects are never touched.",
    )
    completes(delete.add_argument("names", nargs="*", metavar="NAME"), "restores")
    delete.add_argument("--all", action="store_true", help="delete all restores")
    delete.add_argument("-l", "--selector", help="delete all restores matching this label selector")
    delete.add_argument("--confirm", action="store_true", help="confirm deletion")
    add_location_flags(delete)
    delete.set_defaults(handler=delete_restores)

    from restoreflow.cli.preview_cmd import register_verify
    from restoreflow.cli.unlock_cmd import register_unlock

    register_verify(sub)
    register_unlock(sub)


def _add_list_output_flags(parser: argparse.ArgumentParser) -> None:
    add_output_flag(parser)
    parser.add_argument(
        "--label-columns", type=string_array, action="extend", default=[], help="labels to show as columns"
    )
    parser.add_argument("--show-labels", action="store_true", help="show labels in the last column")


# -- get, describe, logs, delete: the records in the storage location ----------------------------


def _records(args: argparse.Namespace) -> tuple[Any, list[dict[str, Any]]]:
    from restoreflow.backup import BackupError

    storage = open_storage(args.storage_location)
    try:
        if args.names:
            records = [storage.restores.get(name) for name in args.names]
        else:
            records = storage.restores.list()
    except BackupError as err:
        raise CliError(str(err)) from None
    chosen = [
        r
        for r in records
        if selected((r.get("metadata") or {}).get("labels"), getattr(args, "selector", None))
    ]
    return storage, chosen


def get_restores(args: argparse.Namespace) -> int:
    _, records = _records(args)
    print_restores(records, args.output, args.label_columns, args.show_labels)
    return 0


def _item_operations(storage: Any, record: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The restore's item operations file, read only when the status says there are some."""
    from restoreflow.backup import BackupError

    if not (record.get("status") or {}).get("restoreItemOperationsAttempted"):
        return None
    try:
        return storage.restores.item_operations(record["metadata"]["name"])
    except BackupError:
        return []


def describe_restores(args: argparse.Namespace) -> int:
    from restoreflow.backup import BackupError
    from restoreflow.describe import as_list, describe_restore, restore_data

    storage, records = _records(args)
    texts, documents = [], []
    for record in records:
        name = (record.get("metadata") or {}).get("name", "")
        try:
            results = storage.restores.results(name)
        except BackupError:
            results = {}
        try:
            resource_list = storage.restores.resource_list(name) if args.details else None
        except BackupError:
            resource_list = None
        operations = _item_operations(storage, record) if args.details else None
        try:
            volume_info = storage.restores.volume_info(name)
        except BackupError:
            volume_info = None
        texts.append(
            describe_restore(
                record,
                results=results,
                resource_list=resource_list,
                details=args.details,
                item_operations=operations,
                volume_info=volume_info,
            )
        )
        documents.append(
            restore_data(record, results=results, resource_list=resource_list, details=args.details)
        )
    if args.output == "table":
        print("\n\n".join(texts), end="")
    else:
        print_data(as_list("Restore", documents, API_VERSION), args.output)  # several: a List, like get
    return 0


def restore_logs(args: argparse.Namespace) -> int:
    from restoreflow.backup import BackupError, RestoreNotFound

    storage = open_storage(args.storage_location)
    try:
        status = storage.restores.get(args.name).get("status") or {}
    except RestoreNotFound:
        raise CliError(f'Restore "{args.name}" does not exist.') from None
    except BackupError as err:
        raise CliError(str(err)) from None
    if status.get("phase") not in ("Completed", "Failed", "PartiallyFailed"):
        raise CliError(
            f'Logs for restore "{args.name}" are not available until it\'s finished processing. Please wait '
            "until the restore has a phase of Completed or Failed and try again."
        )
    try:
        text = storage.restores.logs(args.name)
    except BackupError as err:
        raise CliError(str(err)) from None
    if not text:  # every restore that ends writes one: its process died first (kill -9, a lost node)
        raise CliError(
            f'Restore "{args.name}" has no log: {status.get("failureReason") or "its log file is missing"}. '
            f"`restoreflow restore describe {args.name}` shows how far it got."
        )
    sys.stdout.write(text)
    return 0


def _confirmed() -> bool:
    """Velero's prompt: only a lone y or n answers it; no answer at all (EOF) refuses, as an error."""
    while True:
        sys.stdout.write("Are you sure you want to continue (Y/N)? ")
        sys.stdout.flush()
        answer = sys.stdin.readline()
        if not answer:
            sys.stdout.write("\n")
            raise CliError("error reading user input: EOF (pass --confirm to delete without a prompt)")
        if answer.strip().lower() in ("y", "n"):
            return answer.strip().lower() == "y"


def delete_restores(args: argparse.Namespace) -> int:
    from restoreflow.backup import BackupError
    from restoreflow.backup.liveness import RUNNING_PHASES

    if not args.names and not args.all and not args.selector:
        raise CliError("at least one of --all, --selector or NAME must be specified")
    if args.names and (args.all or args.selector):
        raise CliError("NAME cannot be given with --all or --selector")
    if not args.confirm and not _confirmed():
        return 0
    storage = open_storage(args.storage_location)
    errors: list[str] = []
    records: list[dict[str, Any]] = []
    if args.names:
        for name in args.names:
            try:
                records.append(storage.restores.get(name))
            except BackupError as err:
                errors.append(str(err))
    else:
        _, records = _records(
            argparse.Namespace(storage_location=args.storage_location, names=[], selector=args.selector)
        )
        if not records:
            print("No restores found")
    for record in records:
        name = (record.get("metadata") or {}).get("name", "")
        phase = (record.get("status") or {}).get("phase")
        if phase in RUNNING_PHASES:  # its process would write the record again, whole, at its end
            errors.append(
                f'Restore "{name}" is {phase}: its record cannot be deleted while it runs; wait for it to '
                "end, or cancel its flow run first"
            )
            continue
        try:
            storage.restores.delete(name)
            print(f'Restore "{name}" deleted')
        except BackupError as err:
            errors.append(str(err))
    if errors:
        raise CliError("\n".join(errors))
    return 0
