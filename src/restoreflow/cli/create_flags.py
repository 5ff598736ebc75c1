"""`restore create`'s flags: Velero's names and meanings, and what they set in the plan.

Every flag of `velero restore create` is here with Velero's value syntax (comma lists that repeat,
`key=value` pairs, booleans that take an optional `=false`). The flags become one typed
`CreateOptions`; `flag_overrides` turns it into the plan fields it sets.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from restoreflow.cli.common import CliError, add_location_flags, add_verb, completes
from restoreflow.kube.names import dns1123_subdomain_errors

# -- flag value types (Velero's flag package) ----------------------------------------------------


def string_array(text: str) -> list[str]:
    """Comma-separated values; repeating the flag adds more."""
    return [part for part in text.split(",") if part]


# strconv.ParseBool's spellings: a bool flag takes its value only after `=`, as in Velero, so that
# `--include-cluster-resources NAME` leaves NAME to be the restore's name.
BOOL_SPELLINGS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


def _add_bool_flag(parser: argparse.ArgumentParser, flag: str, help_text: str) -> None:
    """`--flag` sets true, `--flag=false` false; the value is never the next argument."""
    dest = flag.removeprefix("--").replace("-", "_")
    parser.add_argument(
        flag, action="store_const", const=True, dest=dest, help=f"{help_text} ({flag}=false: no)"
    )
    for text, value in BOOL_SPELLINGS.items():
        parser.add_argument(
            f"{flag}={text}", action="store_const", const=value, dest=dest, help=argparse.SUPPRESS
        )


def _key_values(separator: str) -> Callable[[str], dict[str, str]]:
    def parse(text: str) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for part in filter(None, text.split(",")):
            key, sep, value = part.partition(separator)
            if not sep or not key:
                raise argparse.ArgumentTypeError(f"invalid key{separator}value pair {part!r}")
            pairs[key.strip()] = value.strip()
        return pairs

    return parse


CREATE_EXAMPLES = """examples:
  # restore a backup's namespace into another namespace, and follow it
  restoreflow restore create --from-backup nightly-20261124010000 --include-namespaces shop \\
      --namespace-mappings shop:shop-copy --wait

  # run a plan from git; the flags override it
  restoreflow restore create --plan plans/demo.yaml --wait

  # the latest backup of a schedule, through a Prefect deployment (a worker runs it)
  restoreflow restore create --from-schedule nightly --deployment restore/restore

  # print the restore it would create, and create nothing
  restoreflow restore create --from-backup demo-backup -o yaml
"""


def register_create(sub: Any) -> argparse.ArgumentParser:
    """The `restore create` parser; the caller sets its handler."""
    create = add_verb(
        sub,
        "create",
        help="create a restore",
        description="Create a restore from a plan, from Velero's flags, or both (flags override the plan).",
        epilog=CREATE_EXAMPLES,
    )
    add = create.add_argument
    add("name", nargs="?", metavar="NAME", help="restore name (default: <plan or backup>-<timestamp>)")
    add("--plan", metavar="FILE", help="restore plan file")
    completes(add("--from-backup", metavar="BACKUP", help="backup to restore from"), "backups")
    completes(
        add(
            "--from-schedule",
            metavar="SCHEDULE",
            help="schedule to restore from (its latest completed backup)",
        ),
        "schedules",
    )
    _add_bool_flag(
        create,
        "--allow-partially-failed",
        "with --from-schedule, also consider PartiallyFailed backups for the most recent one",
    )
    add(
        "--include-namespaces",
        type=string_array,
        action="extend",
        metavar="NS,...",
        help="namespaces to include in the restore (use '*' for all namespaces)",
    )
    add(
        "--exclude-namespaces",
        type=string_array,
        action="extend",
        metavar="NS,...",
        help="namespaces to exclude from the restore",
    )
    add(
        "--namespace-mappings",
        type=_key_values(":"),
        metavar="SRC:DST,...",
        help="namespace mappings from name in the backup to desired restored name, src1:dst1,src2:dst2",
    )
    add("--labels", type=_key_values("="), metavar="KEY=VALUE,...", help="labels to apply to the restore")
    add(
        "--include-resources",
        type=string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources to include, formatted as resource.group (use '*' for all resources)",
    )
    add(
        "--exclude-resources",
        type=string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources to exclude, formatted as resource.group",
    )
    _add_bool_flag(create, "--include-cluster-resources", "include cluster-scoped resources in the restore")
    add(
        "--existing-resource-policy",
        metavar="POLICY",
        help="restore policy for existing objects: none or update",
    )
    add(
        "--status-include-resources",
        type=string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources whose status is restored, formatted as resource.group",
    )
    add(
        "--status-exclude-resources",
        type=string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources whose status is not restored",
    )
    add("-l", "--selector", help="only restore resources matching this label selector")
    add("--or-selector", help="restore resources matching at least one selector, separated by ' or '")
    _add_bool_flag(create, "--restore-volumes", "whether to restore volumes from snapshots")
    _add_bool_flag(create, "--preserve-nodeports", "whether to preserve nodeports of Services when restoring")
    add("--item-operation-timeout", metavar="DURATION", help="how long to wait for async plugin operations")
    add(
        "--fs-backup-timeout",
        metavar="DURATION",
        help="how long to wait for file-system backup (pod volume) restores (default 4h)",
    )
    add("--resource-modifier-configmap", metavar="NAME", help="the resource modifier ConfigMap to use")
    add(
        "--velero-namespace",
        metavar="NS",
        help="where Velero's ConfigMaps are read in the target (plugin configs, resource modifiers; "
        "default velero)",
    )
    _add_bool_flag(create, "--write-sparse-files", "whether to write sparse files when restoring volumes")
    add("--parallel-files-download", type=int, metavar="N", help="files downloaded in parallel per volume")
    add("-w", "--wait", action="store_true", help="wait for the restore to finish, showing its progress")
    add("-v", "--verbose", action="store_true", help="show Prefect's log lines on the terminal")
    add(
        "--deployment",
        metavar="FLOW/DEPLOYMENT",
        help="submit to this Prefect deployment instead of running here",
    )
    create.add_argument(
        "-o",
        "--output",
        choices=("table", "json", "yaml"),
        help="print the restore that would be created, and do not create it",
    )
    create.add_argument(
        "--label-columns", type=string_array, action="extend", default=[], help=argparse.SUPPRESS
    )
    create.add_argument("--show-labels", action="store_true", help=argparse.SUPPRESS)
    add_location_flags(create)
    return create


@dataclass(frozen=True)
class CreateOptions:
    """Every `restore create` flag, typed (argparse's `dest` names)."""

    name: str | None = None
    plan: str | None = None
    from_backup: str | None = None
    from_schedule: str | None = None
    allow_partially_failed: bool | None = None
    include_namespaces: list[str] | None = None
    exclude_namespaces: list[str] | None = None
    namespace_mappings: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    include_resources: list[str] | None = None
    exclude_resources: list[str] | None = None
    include_cluster_resources: bool | None = None
    existing_resource_policy: str | None = None
    status_include_resources: list[str] | None = None
    status_exclude_resources: list[str] | None = None
    selector: str | None = None
    or_selector: str | None = None
    restore_volumes: bool | None = None
    preserve_nodeports: bool | None = None
    item_operation_timeout: str | None = None
    resource_modifier_configmap: str | None = None
    velero_namespace: str | None = None
    fs_backup_timeout: str | None = None
    write_sparse_files: bool | None = None
    parallel_files_download: int | None = None
    wait: bool = False
    verbose: bool = False
    deployment: str | None = None
    output: str | None = None
    label_columns: list[str] | None = None
    show_labels: bool = False
    storage_location: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    verify: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CreateOptions:
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})


# -- create: the plan from --plan and the flags --------------------------------------------------


def _label_selector(text: str) -> dict[str, Any]:
    """A selector string as a metav1.LabelSelector (Kubernetes' ParseToLabelSelector)."""
    from restoreflow.kube.selectors import SelectorError, parse_selector

    try:
        requirements = parse_selector(text).requirements
    except SelectorError as err:
        raise CliError(f"invalid label selector {text!r}: {err}") from None
    match_labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for r in requirements:
        if r.operator == "in" and len(r.values) == 1 and r.key not in match_labels:
            match_labels[r.key] = r.values[0]
        elif r.operator in ("in", "notin"):
            expressions.append(
                {"key": r.key, "operator": "In" if r.operator == "in" else "NotIn", "values": list(r.values)}
            )
        elif r.operator in ("exists", "!"):
            expressions.append(
                {"key": r.key, "operator": "Exists" if r.operator == "exists" else "DoesNotExist"}
            )
        else:
            raise CliError(
                f"invalid label selector {text!r}: {r.operator!r} is not a valid label selector operator"
            )
    selector: dict[str, Any] = {}
    if match_labels:
        selector["matchLabels"] = match_labels
    if expressions:
        selector["matchExpressions"] = expressions
    return selector


def check_create_flags(args: CreateOptions) -> None:
    """Velero's client-side checks of `restore create`, with its messages."""
    if args.from_backup and args.from_schedule:
        raise CliError("either a backup or schedule must be specified, but not both")
    if not args.plan and not (args.from_backup or args.from_schedule):
        raise CliError("either a backup or schedule must be specified, but not both")
    if args.selector and args.or_selector:
        raise CliError("either a 'selector' or an 'or-selector' can be specified, but not both")
    if args.existing_resource_policy and args.existing_resource_policy not in ("none", "update"):
        raise CliError("existing-resource-policy has invalid value, it accepts only none, update as value")
    if args.name and (problems := dns1123_subdomain_errors(args.name)):
        raise CliError(f'invalid restore name "{args.name}": {"; ".join(problems)}')
    if args.labels:
        from restoreflow.restore.record import label_errors

        if problems := label_errors(args.labels):
            raise CliError(f"invalid restore labels: {'; '.join(problems)}")


def flag_overrides(args: CreateOptions) -> dict[str, Any]:
    """The plan spec fields the flags set (camelCase, as in the plan)."""
    spec: dict[str, Any] = {}
    simple = {
        "includedNamespaces": args.include_namespaces,
        "excludedNamespaces": args.exclude_namespaces,
        "includedResources": args.include_resources,
        "excludedResources": args.exclude_resources,
        "includeClusterResources": args.include_cluster_resources,
        "namespaceMapping": args.namespace_mappings,
        "restorePVs": args.restore_volumes,
        "preserveNodePorts": args.preserve_nodeports,
        "existingResourcePolicy": args.existing_resource_policy,
        "itemOperationTimeout": args.item_operation_timeout,
    }
    spec.update({key: value for key, value in simple.items() if value is not None})
    if args.selector:
        spec["labelSelector"] = _label_selector(args.selector)
    if args.or_selector:
        spec["orLabelSelectors"] = [_label_selector(part) for part in args.or_selector.split(" or ")]
    if args.status_include_resources:
        spec["restoreStatus"] = {
            "includedResources": args.status_include_resources,
            "excludedResources": args.status_exclude_resources or [],
        }
    if args.resource_modifier_configmap:
        spec["resourceModifier"] = {"kind": "ConfigMap", "name": args.resource_modifier_configmap}
    if args.fs_backup_timeout:
        spec["timeouts"] = {"fsBackupRestore": args.fs_backup_timeout}
    if args.velero_namespace:
        spec["transforms"] = {"veleroNamespace": args.velero_namespace}
    uploader = {
        "writeSparseFiles": args.write_sparse_files,
        "parallelFilesDownload": args.parallel_files_download,
    }
    if any(value is not None for value in uploader.values()):
        spec["uploaderConfig"] = {key: value for key, value in uploader.items() if value is not None}
    if args.verify:
        spec["verify"] = {}  # the defaults: objects as written, workloads ready within 5m
    return spec


def apply_source_flags(spec: dict[str, Any], args: CreateOptions, storage: Any) -> None:
    source = dict(spec.get("source") or {})
    if args.storage_location:
        source["storageLocation"] = args.storage_location
    if args.from_backup:
        source.pop("scheduleName", None)
        source["backupName"] = args.from_backup
    if args.from_schedule:
        source.pop("backupName", None)
        source["scheduleName"] = args.from_schedule
        latest = _latest_allowed_backup(storage, args.from_schedule) if args.allow_partially_failed else None
        if latest:  # like Velero's client: restore that very backup
            source.pop("scheduleName")
            source["backupName"] = latest
    spec["source"] = source
    target = dict(spec.get("target") or {})
    if args.kubeconfig:
        target["kubeconfig"] = args.kubeconfig
    if args.context:
        target["context"] = args.context
    spec["target"] = target


def _latest_allowed_backup(storage: Any, schedule: str) -> str | None:
    """The newest Completed or PartiallyFailed backup of a schedule (`--allow-partially-failed`)."""
    candidates = [
        b
        for b in storage.list_backups()
        if b.schedule_name == schedule and b.phase in ("Completed", "PartiallyFailed")
    ]
    newest = max(
        candidates, key=lambda b: b.start_timestamp or datetime.min.replace(tzinfo=UTC), default=None
    )
    return newest.name if newest else None
