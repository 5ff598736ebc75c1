"""`restoreflow restore create|get|describe|logs|delete`: Velero's verbs over restoreflow's plans.

`create` takes every flag of `velero restore create` with Velero's name and meaning; flags override
the plan, and with no `--plan` the flags alone define the restore. It runs the `restore` flow in
this process (Prefect's embedded server, or `PREFECT_API_URL`) or submits it to a deployment.
`get`, `describe`, `logs` and `delete` read the restore records in the storage location and never
import Prefect.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from restoreflow.cli.backup_cmd import STORAGE_ENV, open_storage, selected
from restoreflow.cli.common import CliError, add_location_flags, add_output_flag, print_data
from restoreflow.kube.names import dns1123_subdomain_errors

API_VERSION = "restoreflow.dev/v1alpha1"
FINAL_PHASES = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")
INTERRUPTED = "interrupted: the restoreflow process running the restore was stopped"


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="restore_command", metavar="COMMAND", required=True)
    _register_create(sub)

    get = sub.add_parser("get", help="get restores", description="List restores from their records.")
    get.add_argument("names", nargs="*", metavar="NAME")
    get.add_argument("-l", "--selector", help="only show restores matching this label selector")
    _add_list_output_flags(get)
    add_location_flags(get)
    get.set_defaults(handler=get_restores)

    describe = sub.add_parser("describe", help="describe restores", description="Describe restores.")
    describe.add_argument("names", nargs="*", metavar="NAME")
    describe.add_argument("-l", "--selector", help="only describe restores matching this label selector")
    describe.add_argument(
        "--details", action="store_true", help="display additional detail (per-resource list)"
    )
    add_output_flag(describe)
    add_location_flags(describe)
    describe.set_defaults(handler=describe_restores)

    logs = sub.add_parser("logs", help="get restore logs", description="Print a restore's log.")
    logs.add_argument("name", metavar="NAME")
    add_location_flags(logs)
    logs.set_defaults(handler=restore_logs)

    delete = sub.add_parser(
        "delete",
        help="delete restores",
        description="Delete restore records and their files. Restored cluster objects are never touched.",
    )
    delete.add_argument("names", nargs="*", metavar="NAME")
    delete.add_argument("--all", action="store_true", help="delete all restores")
    delete.add_argument("-l", "--selector", help="delete all restores matching this label selector")
    delete.add_argument("--confirm", action="store_true", help="confirm deletion")
    add_location_flags(delete)
    delete.set_defaults(handler=delete_restores)

    from restoreflow.cli.preview_cmd import register_verify

    register_verify(sub)


def _add_list_output_flags(parser: argparse.ArgumentParser) -> None:
    add_output_flag(parser)
    parser.add_argument(
        "--label-columns", type=_string_array, action="extend", default=[], help="labels to show as columns"
    )
    parser.add_argument("--show-labels", action="store_true", help="show labels in the last column")


# -- flag value types (Velero's flag package) ----------------------------------------------------


def _string_array(text: str) -> list[str]:
    """Comma-separated values; repeating the flag adds more."""
    return [part for part in text.split(",") if part]


def _optional_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "t", "yes"):
        return True
    if value in ("false", "0", "f", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


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


def _register_create(sub: Any) -> None:
    create = sub.add_parser(
        "create",
        help="create a restore",
        description="Create a restore from a plan, from Velero's flags, or both (flags override the plan).",
    )
    add = create.add_argument
    add("name", nargs="?", metavar="NAME", help="restore name (default: <plan or backup>-<timestamp>)")
    add("--plan", metavar="FILE", help="restore plan file")
    add("--from-backup", metavar="BACKUP", help="backup to restore from")
    add("--from-schedule", metavar="SCHEDULE", help="schedule to restore from (its latest completed backup)")
    add(
        "--allow-partially-failed",
        type=_optional_bool,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="with --from-schedule, also consider PartiallyFailed backups for the most recent one",
    )
    add(
        "--include-namespaces",
        type=_string_array,
        action="extend",
        metavar="NS,...",
        help="namespaces to include in the restore (use '*' for all namespaces)",
    )
    add(
        "--exclude-namespaces",
        type=_string_array,
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
        type=_string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources to include, formatted as resource.group (use '*' for all resources)",
    )
    add(
        "--exclude-resources",
        type=_string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources to exclude, formatted as resource.group",
    )
    add(
        "--include-cluster-resources",
        type=_optional_bool,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="include cluster-scoped resources in the restore",
    )
    add(
        "--existing-resource-policy",
        metavar="POLICY",
        help="restore policy for existing objects: none or update",
    )
    add(
        "--status-include-resources",
        type=_string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources whose status is restored, formatted as resource.group",
    )
    add(
        "--status-exclude-resources",
        type=_string_array,
        action="extend",
        metavar="RESOURCE,...",
        help="resources whose status is not restored",
    )
    add("-l", "--selector", help="only restore resources matching this label selector")
    add("--or-selector", help="restore resources matching at least one selector, separated by ' or '")
    add(
        "--restore-volumes",
        type=_optional_bool,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="whether to restore volumes from snapshots",
    )
    add(
        "--preserve-nodeports",
        type=_optional_bool,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="whether to preserve nodeports of Services when restoring",
    )
    add("--item-operation-timeout", metavar="DURATION", help="how long to wait for async plugin operations")
    add("--resource-modifier-configmap", metavar="NAME", help="the resource modifier ConfigMap to use")
    add(
        "--write-sparse-files",
        type=_optional_bool,
        nargs="?",
        const=True,
        metavar="BOOL",
        help="whether to write sparse files when restoring volumes",
    )
    add("--parallel-files-download", type=int, metavar="N", help="files downloaded in parallel per volume")
    add("-w", "--wait", action="store_true", help="wait for the restore to finish, with a progress bar")
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
        "--label-columns", type=_string_array, action="extend", default=[], help=argparse.SUPPRESS
    )
    create.add_argument("--show-labels", action="store_true", help=argparse.SUPPRESS)
    add_location_flags(create)
    create.set_defaults(handler=create_restore)


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


def _check_create_flags(args: argparse.Namespace) -> None:
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


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
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
    uploader = {
        "writeSparseFiles": args.write_sparse_files,
        "parallelFilesDownload": args.parallel_files_download,
    }
    if any(value is not None for value in uploader.values()):
        spec["uploaderConfig"] = {key: value for key, value in uploader.items() if value is not None}
    return spec


def _apply_source_flags(spec: dict[str, Any], args: argparse.Namespace, storage: Any) -> None:
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


class CreateRequest:
    """What `restore create` resolved: the plan, its document, the name, and how to pass it to the flow."""

    def __init__(self, args: argparse.Namespace) -> None:
        from restoreflow.plan import PlanError, plan_from_document

        _check_create_flags(args)
        location = args.storage_location or os.environ.get(STORAGE_ENV)
        base = _load_base_plan(args.plan, location)
        document = _base_document(base, args.storage_location)
        spec = {**document["spec"], **flag_overrides(args)}
        source = spec.get("source") or {}
        self.storage = open_storage(
            args.storage_location or source.get("storageLocation"), source.get("options")
        )
        _apply_source_flags(spec, args, self.storage)
        source = spec["source"]
        stem = base.name if base else source.get("backupName") or source.get("scheduleName")
        self.name = args.name or f"{stem}-{_now_stamp()}"
        self.document = {**document, "metadata": {"name": self.name, **document["metadata"]}, "spec": spec}
        # The flow re-reads an unchanged plan file; a location given from outside must travel inline.
        external = base is not None and location == base.spec.source.storage_location
        changed = base is None or external or spec != document["spec"]
        try:
            self.plan = plan_from_document(self.document, source=args.plan or "<flags>") if changed else base
        except PlanError as err:
            raise CliError(f"invalid restore:\n{err}") from None
        self.plan_parameter = _yaml_text(self.document) if changed else args.plan
        self.labels = args.labels or {}

    def restore_object(self) -> dict[str, Any]:
        """The restore as `-o` prints it: a Restore document, phase New."""
        spec = dict(self.document["spec"])
        source = spec.pop("source", {})
        return {
            "apiVersion": API_VERSION,
            "kind": "Restore",
            "metadata": {"name": self.name, **({"labels": self.labels} if self.labels else {})},
            "spec": {
                "backupName": source.get("backupName"),
                "scheduleName": source.get("scheduleName"),
                "plan": self.plan.name,
                "storageLocation": source.get("storageLocation"),
                **spec,
            },
            "status": {},
        }

    def check_name_is_free(self) -> None:
        """Like Velero, never reuse a restore's name: its record, logs and results would be overwritten."""
        if self.storage.restores.exists(self.name):
            raise CliError(
                f'restore "{self.name}" already exists in backup storage location {self.storage.url}'
            )

    def check_backup(self) -> None:
        """Fail fast, before starting Prefect, when the backup or schedule is unknown."""
        from restoreflow.backup import BackupError

        source = self.plan.spec.source
        try:
            if source.backup_name:
                self.storage.get_backup(source.backup_name)
            else:
                self.storage.latest_backup_of_schedule(source.schedule_name)
        except BackupError as err:
            raise CliError(str(err)) from None


def _load_base_plan(path: str | None, storage_location: str | None) -> Any:
    from restoreflow.plan import PlanError, load_plan

    if not path:
        return None
    try:
        return load_plan(path, storage_location=storage_location)
    except PlanError as err:
        raise CliError(f"invalid restore plan:\n{err}") from None
    except OSError as err:
        raise CliError(f"cannot read restore plan {path}: {err.strerror or err}") from None


def _base_document(base: Any, storage_location: str | None) -> dict[str, Any]:
    """The plan's normalized document, or the skeleton the flags fill when there is no plan."""
    from restoreflow.plan import plan_to_document

    if base is not None:
        document = plan_to_document(base)
        return {**document, "metadata": dict(document.get("metadata") or {}), "spec": dict(document["spec"])}
    location = storage_location or _env_storage()
    return {
        "apiVersion": API_VERSION,
        "kind": "RestorePlan",
        "metadata": {},
        "spec": {"source": {"storageLocation": location}},
    }


def _env_storage() -> str:

    url = os.environ.get(STORAGE_ENV)
    if not url:
        raise CliError(f"no backup storage location: pass --storage-location URL or set {STORAGE_ENV}")
    return url


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


def _yaml_text(document: dict[str, Any]) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def create_restore(args: argparse.Namespace) -> int:
    request = CreateRequest(args)
    if args.output:
        _print_restores([request.restore_object()], args)
        return 0
    request.check_name_is_free()
    request.check_backup()
    _quiet_embedded_server()
    print(f'Restore request "{request.name}" submitted successfully.')
    if args.deployment:
        flow_run = _submit(request, args.deployment)
        if not args.wait:
            name = request.name
            print(
                f"Run `restoreflow restore describe {name}` or `restoreflow restore logs {name}` for details."
            )
            return 0
        with _progress(request, args.wait):
            phase = _follow(flow_run)
    else:
        with _progress(request, args.wait):
            phase = _run_here(request)
    return _report(request, phase)


def _quiet_embedded_server() -> None:
    """No telemetry from Prefect's embedded server: it logs tracebacks offline and stalls the run."""

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextmanager
def _progress(request: CreateRequest, wait: bool) -> Iterator[None]:
    bar = ProgressBar(request.storage, request.name) if wait else None
    try:
        yield
    finally:
        if bar:
            bar.stop()


def _run_here(request: CreateRequest) -> str:
    """Run the flow in this process (Prefect's embedded server unless PREFECT_API_URL is set)."""
    from restoreflow.orchestration import restore as restore_flow

    try:
        state = restore_flow(
            plan=request.plan_parameter, restore_name=request.name, labels=request.labels, return_state=True
        )
    except KeyboardInterrupt:
        _mark_interrupted(request)
        raise
    return state.name if state.name in FINAL_PHASES else "Failed"


def _mark_interrupted(request: CreateRequest) -> None:
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


def _submit(request: CreateRequest, deployment: str) -> Any:
    """Create a flow run of the deployment (`FLOW/DEPLOYMENT`, or a deployment of the `restore` flow)."""
    from prefect.deployments import run_deployment

    name = deployment if "/" in deployment else f"restore/{deployment}"
    parameters = {"plan": request.plan_parameter, "restore_name": request.name, "labels": request.labels}
    try:
        flow_run = run_deployment(name=name, parameters=parameters, timeout=0)
    except Exception as err:  # unknown deployment, unreachable server
        raise CliError(f"cannot submit to deployment {name}: {err}") from None
    print(f"Flow run {flow_run.name} ({flow_run.id}) created from deployment {name}.")
    return flow_run


def _follow(flow_run: Any) -> str:
    """Wait for a submitted flow run to end; its state name is the restore's phase."""
    import time

    from prefect import get_client

    with get_client(sync_client=True) as client:
        while not (flow_run.state and flow_run.state.is_final()):
            time.sleep(1)
            flow_run = client.read_flow_run(flow_run.id)
    return flow_run.state.name if flow_run.state.name in FINAL_PHASES else "Failed"


def _report(request: CreateRequest, phase: str) -> int:
    name = request.name
    print(
        f"Restore completed with status: {phase}. You may check for more information using the commands "
        f"`restoreflow restore describe {name}` and `restoreflow restore logs {name}`."
    )
    from restoreflow.backup import BackupError

    try:
        status = request.storage.restores.get(name).get("status") or {}
    except BackupError:
        status = {}
    counts = status.get("counts") or {}
    if counts or status:
        print(
            f"Items: {counts.get('created', 0)} created, {counts.get('updated', 0)} updated, "
            f"{counts.get('skipped', 0)} skipped, {counts.get('failed', 0)} failed; "
            f"warnings: {status.get('warnings', 0)}, errors: {status.get('errors', 0)}"
        )
    for problem in status.get("validationErrors") or []:
        print(f"Validation error: {problem}")
    if status.get("failureReason"):
        print(f"Failure reason: {status['failureReason']}")
    return 0 if phase == "Completed" else 1


class ProgressBar:
    """`--wait`: a live bar drawn from the restore's status document in the storage location."""

    WIDTH = 30

    def __init__(self, storage: Any, name: str, interval: float = 0.5) -> None:
        self.storage, self.name, self.interval = storage, name, interval
        self.tty = sys.stdout.isatty()
        self._last = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="restore-progress-bar", daemon=True)
        print("Waiting for restore to complete.")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.draw()

    def draw(self) -> None:
        from restoreflow.backup import BackupError

        try:
            status = self.storage.restores.get(self.name).get("status") or {}
        except BackupError:
            return
        progress = status.get("progress") or {}
        total, done = progress.get("totalItems", 0), progress.get("itemsRestored", 0)
        filled = int(self.WIDTH * done / total) if total else 0
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"[{bar}] {done:,}/{total:,} items  {status.get('phase', '')}"
        if line == self._last:
            return
        self._last = line
        sys.stdout.write(f"\r{line}" if self.tty else f"{line}\n")
        sys.stdout.flush()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.draw()
        if self.tty:
            sys.stdout.write("\n")


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


def _print_restores(records: list[dict[str, Any]], args: argparse.Namespace) -> None:
    from restoreflow.describe import as_list, restore_table

    if (args.output or "table") == "table":
        print(restore_table(records, args.label_columns, args.show_labels), end="")
    else:
        print_data(as_list("Restore", records, API_VERSION), args.output)


def get_restores(args: argparse.Namespace) -> int:
    _, records = _records(args)
    _print_restores(records, args)
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
    from restoreflow.describe import describe_restore, restore_data

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
        print_data(documents[0] if len(documents) == 1 else documents, args.output)
    return 0


def restore_logs(args: argparse.Namespace) -> int:
    from restoreflow.backup import BackupError, RestoreNotFound

    storage = open_storage(args.storage_location)
    try:
        phase = (storage.restores.get(args.name).get("status") or {}).get("phase")
    except RestoreNotFound:
        raise CliError(f'Restore "{args.name}" does not exist.') from None
    except BackupError as err:
        raise CliError(str(err)) from None
    if phase not in ("Completed", "Failed", "PartiallyFailed"):
        raise CliError(
            f'Logs for restore "{args.name}" are not available until it\'s finished processing. Please wait '
            "until the restore has a phase of Completed or Failed and try again."
        )
    try:
        sys.stdout.write(storage.restores.logs(args.name))
    except BackupError as err:
        raise CliError(str(err)) from None
    return 0


def _confirmed() -> bool:
    """Velero's prompt: only a lone y or n answers it."""
    while True:
        sys.stdout.write("Are you sure you want to continue (Y/N)? ")
        sys.stdout.flush()
        answer = sys.stdin.readline()
        if not answer:
            print("error reading user input: EOF", file=sys.stderr)
            return False
        if answer.strip().lower() in ("y", "n"):
            return answer.strip().lower() == "y"


def delete_restores(args: argparse.Namespace) -> int:
    from restoreflow.backup import BackupError

    if not args.names and not args.all and not args.selector:
        raise CliError("at least one of --all, --selector or NAME must be specified")
    if args.names and (args.all or args.selector):
        raise CliError("NAME cannot be given with --all or --selector")
    if not args.confirm and not _confirmed():
        return 0
    storage = open_storage(args.storage_location)
    errors: list[str] = []
    targets: list[str] = []
    if args.names:
        for name in args.names:
            try:
                storage.restores.get(name)
                targets.append(name)
            except BackupError as err:
                errors.append(str(err))
    else:
        _, records = _records(
            argparse.Namespace(storage_location=args.storage_location, names=[], selector=args.selector)
        )
        targets = [(r.get("metadata") or {}).get("name", "") for r in records]
        if not targets:
            print("No restores found")
    for name in targets:
        try:
            storage.restores.delete(name)
            print(f'Restore "{name}" deleted')
        except BackupError as err:
            errors.append(str(err))
    if errors:
        raise CliError("\n".join(errors))
    return 0
