"""`restore create --dry-run` and `plan preview FILE`: what a restore would do, writing nothing.

The preview runs here, in the CLI's process (no Prefect): validate, fetch and prepare, then every item
through the restore's own pipeline against server-side dry runs. Exit status 0 when every item would
restore, 1 when the API server or the pipeline would refuse some.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from restoreflow import API_VERSION
from restoreflow.cli.common import CliError, add_location_flags, add_verb, completes, print_data


def stoppers() -> tuple[type[Exception], ...]:
    """What can end a preview or verification early (imported only when one runs: `restore get`
    must not pay for the Kubernetes client)."""
    from restoreflow.backup.errors import BackupError
    from restoreflow.cluster.errors import ApiError, ConnectionFault

    return (BackupError, ApiError, ConnectionFault)


def add_create_flags(parser: argparse.ArgumentParser) -> None:
    """The flags `restore create` gains: --dry-run (with --details, --diff) and --verify."""
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="preview: decide every item with server-side dry runs, write nothing (-o json|yaml for scripts)",
    )
    parser.add_argument("--details", action="store_true", help="with --dry-run: one line per item")
    parser.add_argument(
        "--diff", action="store_true", help="with --dry-run: a diff per changed object (Secrets redacted)"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="after the restore, verify what it wrote and that its workloads come up (the plan's verify)",
    )


def register_plan_preview(sub: Any) -> None:
    """`restoreflow plan preview FILE`."""
    parser = add_verb(
        sub,
        "preview",
        help="what restoring this plan would do, item by item (server-side dry run, nothing written)",
        description="Show what restoring this plan would do, item by item: a server-side dry run that "
        "writes nothing.",
        epilog="examples:\n  restoreflow plan preview plans/demo.yaml --details\n"
        "  restoreflow plan preview plans/demo.yaml --backup nightly-20261124010000 --diff\n",
    )
    parser.add_argument("file", metavar="FILE", help="plan file")
    parser.add_argument("--backup", metavar="NAME", help="preview this backup instead of the plan's")
    parser.add_argument("--name", help="the restore's name in the preview (its restore-name label)")
    add_location_flags(parser)
    parser.add_argument("--details", action="store_true", help="one line per item")
    parser.add_argument("--diff", action="store_true", help="a diff per changed object (Secrets redacted)")
    parser.add_argument(
        "-o", "--output", choices=("text", "json", "yaml"), default="text", help="output format"
    )
    parser.set_defaults(handler=plan_preview_command)


def plan_preview_command(args: argparse.Namespace) -> int:
    import os
    from dataclasses import replace

    from restoreflow.cli.backup_cmd import STORAGE_ENV
    from restoreflow.plan import PlanError, load_plan

    try:
        plan = load_plan(args.file, storage_location=args.storage_location or os.environ.get(STORAGE_ENV))
    except PlanError as err:
        raise CliError(f"invalid plan:\n{err}" if len(err.problems) > 1 else str(err)) from None
    plan = replace(plan, spec=replace(plan.spec, target=_target(plan.spec.target, args)))
    return show_preview(plan, args.name or f"{plan.name}-preview", args.backup, args)


def _target(target: Any, args: argparse.Namespace) -> Any:
    """The plan's target, with --kubeconfig and --context where given."""
    from dataclasses import replace

    return replace(
        target, kubeconfig=args.kubeconfig or target.kubeconfig, context=args.context or target.context
    )


def dry_run(plan: Any, restore_name: str, args: argparse.Namespace) -> int:
    """`restore create --dry-run`: the plan and name `restore create` resolved, previewed."""
    output = args.output if args.output in ("json", "yaml") else "text"
    return show_preview(plan, restore_name, None, argparse.Namespace(**{**vars(args), "output": output}))


def show_preview(plan: Any, restore_name: str, backup_name: str | None, args: argparse.Namespace) -> int:
    from restoreflow.restore import ValidationFailed
    from restoreflow.restore.preview import preview
    from restoreflow.review import preview_text

    try:
        result = preview(plan, restore_name=restore_name, backup_name=backup_name)
    except ValidationFailed as failed:
        raise CliError("the restore would fail validation:\n  " + "\n  ".join(failed.errors)) from None
    except stoppers() as err:  # a corrupt archive, the cluster gone mid-way
        raise CliError(f"the preview stopped: {err}") from None
    if args.output == "text":
        sys.stdout.write(preview_text(result, details=args.details, diff=args.diff))
    else:
        print_data(result.to_dict(details=args.details, diff=args.diff), args.output)
    return 1 if result.rejected else 0


# -- restore verify NAME ----------------------------------------------------------------------------
def register_verify(sub: Any) -> None:
    """`restoreflow restore verify NAME`; and `restore create` (registered before) gains its flags."""
    add_create_flags(sub.choices["create"])
    parser = add_verb(
        sub,
        "verify",
        help="check a finished restore again: its objects as written, its workloads ready",
        description="Verify a finished restore: every object it created or updated exists and holds "
        "what was written; with --workloads, its workloads become ready. Exit status 1 when not.",
        epilog="examples:\n  restoreflow restore verify shop-restore\n"
        "  restoreflow restore verify shop-restore --workloads --timeout 10m -o json\n",
    )
    completes(parser.add_argument("name", metavar="NAME", help="the restore"), "restores")
    parser.add_argument(
        "--plan", metavar="FILE", help="the restore's plan (default: the plan file its record names)"
    )
    parser.add_argument("--workloads", action="store_true", help="also wait for its workloads to be ready")
    parser.add_argument(
        "--timeout", default="5m", help="how long workloads may take (Go duration, default 5m)"
    )
    add_location_flags(parser)
    parser.add_argument(
        "-o", "--output", choices=("text", "json", "yaml"), default="text", help="output format"
    )
    parser.set_defaults(handler=verify_command)


def verify_command(args: argparse.Namespace) -> int:
    from restoreflow.backup import BackupError, RestoreNotFound
    from restoreflow.cli.backup_cmd import open_storage
    from restoreflow.kube.durations import parse_duration
    from restoreflow.restore import ValidationFailed
    from restoreflow.restore.verify import verify
    from restoreflow.review import verification_text

    try:
        timeout = parse_duration(args.timeout)
    except ValueError as err:
        raise CliError(f"invalid --timeout: {err}") from None
    storage = open_storage(args.storage_location)
    try:
        record = storage.restores.get(args.name)
        resource_list = storage.restores.resource_list(args.name)
    except RestoreNotFound:
        raise CliError(f'Restore "{args.name}" does not exist.') from None
    except BackupError as err:
        raise CliError(str(err)) from None
    spec, status = record.get("spec") or {}, record.get("status") or {}
    if status.get("phase") not in ("Completed", "PartiallyFailed"):
        raise CliError(
            f'restore "{args.name}" has not finished: its phase is {status.get("phase") or "unknown"}'
        )
    plan = _plan_of(record, args, storage.url)
    try:
        result = verify(
            plan,
            restore_name=args.name,
            backup_name=spec.get("backupName") or "",
            resource_list=resource_list,
            readiness=args.workloads,
            timeout=timeout,
            uid=(record.get("metadata") or {}).get("uid"),
        )
    except ValidationFailed as failed:
        raise CliError("cannot verify:\n  " + "\n  ".join(failed.errors)) from None
    except stoppers() as err:
        raise CliError(f"the verification stopped: {err}") from None
    if args.output == "text":
        sys.stdout.write(verification_text(result))
    else:
        print_data(result.to_dict(), args.output)
    return 0 if result.ok else 1


def _plan_of(record: dict[str, Any], args: argparse.Namespace, storage_url: str) -> Any:
    """The restore's plan: --plan, else the plan file its record names, else rebuilt from its record
    (Velero's fields; transforms are not recorded, so a restore made with them needs --plan)."""
    import os
    from dataclasses import replace

    from restoreflow.plan import PlanError, load_plan, plan_from_document
    from restoreflow.restore.record import VELERO_SPEC_FIELDS

    spec = record.get("spec") or {}
    location = args.storage_location or spec.get("storageLocation") or storage_url
    path = args.plan or (spec.get("planFile") if os.path.isfile(spec.get("planFile") or "") else None)
    try:
        if path:
            plan = load_plan(path, storage_location=location)
        else:
            document = {
                "apiVersion": API_VERSION,
                "kind": "RestorePlan",
                "metadata": {"name": spec.get("plan") or record["metadata"]["name"]},
                "spec": {
                    "source": {"storageLocation": location, "backupName": spec.get("backupName")},
                    "target": {k: v for k, v in (spec.get("target") or {}).items() if v},
                    **{k: spec[k] for k in VELERO_SPEC_FIELDS if spec.get(k) is not None},
                },
            }
            plan = plan_from_document(document, source=f"the record of restore {record['metadata']['name']}")
    except PlanError as err:
        raise CliError(f"invalid plan:\n{err}") from None
    except OSError as err:
        raise CliError(f"cannot read plan {path}: {err.strerror or err}") from None
    return replace(plan, spec=replace(plan.spec, target=_target(plan.spec.target, args)))
