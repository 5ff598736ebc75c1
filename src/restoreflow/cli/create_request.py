"""What `restore create` resolved from the plan and the flags: the restore's plan, name and record."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from restoreflow import API_VERSION
from restoreflow.cli.backup_cmd import STORAGE_ENV, open_storage
from restoreflow.cli.common import CliError
from restoreflow.cli.create_flags import CreateOptions, apply_source_flags, check_create_flags, flag_overrides


class CreateRequest:
    """What `restore create` resolved: the plan, its document, the name, and how to pass it to the flow."""

    def __init__(self, args: CreateOptions) -> None:
        from restoreflow.plan import PlanError, plan_from_document

        check_create_flags(args)
        location = args.storage_location or os.environ.get(STORAGE_ENV)
        base = _load_base_plan(args.plan, location)
        document = _base_document(base, args.storage_location)
        overrides = flag_overrides(args)
        for group in ("transforms", "timeouts"):  # a flag sets one field of the plan's group
            if group in overrides:
                overrides[group] = {**(document["spec"].get(group) or {}), **overrides[group]}
        spec = {**document["spec"], **overrides}
        source = spec.get("source") or {}
        self.storage = open_storage(
            args.storage_location or source.get("storageLocation"), source.get("options")
        )
        apply_source_flags(spec, args, self.storage)
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

    def target_namespaces(self) -> list[str]:
        """The namespaces restored into (after mapping); empty when every namespace may be."""
        spec = self.plan.spec
        if not spec.included_namespaces or "*" in spec.included_namespaces:
            return []
        return sorted({spec.namespace_mapping.get(ns, ns) for ns in spec.included_namespaces})

    @property
    def parameters(self) -> dict[str, Any]:
        """The `restore` flow's parameters."""
        return {"plan": self.plan_parameter, "restore_name": self.name, "labels": self.labels}

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
    # Velero's flags alone restore as Velero does: its plugin ConfigMaps in the target count.
    transforms = {"honorVeleroConfigMaps": True}
    return {
        "apiVersion": API_VERSION,
        "kind": "RestorePlan",
        "metadata": {},
        "spec": {"source": {"storageLocation": location}, "transforms": transforms},
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
