"""`restoreflow plan ...`: validate, show and convert restore plans (never imports Prefect)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from restoreflow.cli.backup_cmd import STORAGE_ENV
from restoreflow.cli.common import CliError, add_verb, print_data


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="plan_command", metavar="COMMAND", required=True)

    validate = add_verb(
        sub,
        "validate",
        help="check plan files; exit 1 when any is invalid",
        description="Check plan files against the schema and the rules; exit 1 when any is invalid.",
        epilog="examples:\n  restoreflow plan validate plans/*.yaml            # e.g. in a pre-commit hook\n"
        "  restoreflow plan validate portable.yaml --storage-location s3://velero-backups/prod\n",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="plan files")
    _add_storage_location(validate)
    validate.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    validate.set_defaults(handler=validate_command)

    show = add_verb(
        sub,
        "show",
        help="print the normalized plan with every default filled in",
        description="Print the normalized plan with every default filled in.",
        epilog="examples:\n  restoreflow plan show plans/demo.yaml -o json\n",
    )
    show.add_argument("file", metavar="FILE", help="plan file")
    _add_storage_location(show)
    show.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="output format")
    show.set_defaults(handler=show_command)

    schema = add_verb(
        sub,
        "schema",
        help="print the plan's JSON Schema",
        description="Print the JSON Schema plans are validated against (for editors and CI).",
        epilog="examples:\n  restoreflow plan schema > restore-plan.schema.json   # for editors and CI\n",
    )
    schema.set_defaults(handler=schema_command)

    convert = add_verb(
        sub,
        "from-velero",
        help="print the plan equivalent to a Velero Restore (YAML)",
        description="Print the restore plan equivalent to a velero.io/v1 Restore.",
        epilog="examples:\n  kubectl -n velero get restore shop-restore -o yaml > restore.yaml\n"
        "  restoreflow plan from-velero restore.yaml > plans/shop.yaml\n",
    )
    convert.add_argument("file", metavar="RESTORE.yaml", help="a velero.io/v1 Restore")
    convert.add_argument(
        "--storage-location",
        metavar="URL",
        default=os.environ.get("RESTOREFLOW_STORAGE_LOCATION"),
        help="fsspec URL of the backup storage location (env RESTOREFLOW_STORAGE_LOCATION)",
    )
    convert.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml", help="output format")
    convert.set_defaults(handler=from_velero_command)

    from restoreflow.cli.preview_cmd import register_plan_preview

    register_plan_preview(sub)


def validate_command(args: argparse.Namespace) -> int:
    from restoreflow.plan import PlanError, load_plan

    results: list[dict[str, Any]] = []
    for file in args.files:
        try:
            plan = load_plan(file, storage_location=_storage_location(args))
        except PlanError as err:
            results.append({"file": file, "valid": False, "problems": [p.to_dict() for p in err.problems]})
            if args.output == "text":
                print(err)
        else:
            results.append({"file": file, "valid": True, "name": plan.name, "problems": []})
            if args.output == "text":
                print(f"{file}: valid (plan {plan.name})")
    valid = all(r["valid"] for r in results)
    if args.output == "json":
        print_data({"valid": valid, "files": results}, "json")
    return 0 if valid else 1


def show_command(args: argparse.Namespace) -> int:
    from restoreflow.plan import load_plan, plan_to_document

    plan = _load(lambda path: load_plan(path, storage_location=_storage_location(args)), args.file)
    _print(plan_to_document(plan), args.output)
    return 0


def schema_command(args: argparse.Namespace) -> int:
    from restoreflow.plan.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def from_velero_command(args: argparse.Namespace) -> int:
    from restoreflow.plan.velero import SCHEMA_COMMENT, load_velero_restore

    document = _load(load_velero_restore, args.file, args.storage_location)
    if args.storage_location is None:
        print(
            "note: a Velero Restore does not say where its backups live: set spec.source.storageLocation "
            "or pass --storage-location URL",
            file=sys.stderr,
        )
    if args.output == "yaml":
        print(SCHEMA_COMMENT)
    _print(document, args.output)
    return 0


def _add_storage_location(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage-location",
        metavar="URL",
        help="for a plan that leaves spec.source.storageLocation out (env RESTOREFLOW_STORAGE_LOCATION)",
    )


def _storage_location(args: argparse.Namespace) -> str | None:
    """A plan may leave its storage location to the flag or RESTOREFLOW_STORAGE_LOCATION, as `restore
    create` does."""
    return args.storage_location or os.environ.get(STORAGE_ENV)


def _load(loader: Any, *arguments: Any) -> Any:
    """Run a loader; its problems become the CLI error (one per line, exit 1)."""
    from restoreflow.plan import PlanError

    try:
        return loader(*arguments)
    except PlanError as err:
        raise CliError(f"invalid plan:\n{err}" if len(err.problems) > 1 else str(err)) from None


def _print(document: dict[str, Any], fmt: str) -> None:
    """A plan document in its own key order (print_data would sort YAML keys)."""
    if fmt == "json":
        print_data(document, "json")
        return
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.representer.add_representer(str, _represent_text)
    yaml.dump(document, sys.stdout)


def _represent_text(representer: Any, text: str) -> Any:
    """Multi-line strings (patches, scripts) as literal blocks, as people write them."""
    style = "|" if "\n" in text else None
    return representer.represent_scalar("tag:yaml.org,2002:str", text, style=style)
