"""The restore item action interface, shared by the built-in actions and plugins.

An action sees one item on its way into the cluster (after metadata and status were reset, before
the namespace is remapped and the restore labels are added), the untouched item from the backup,
and the restore. It may change the item, skip it, or name additional items to restore first.
Same contract as Velero's RestoreItemAction, in plain Python over plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ResourceIdentifier:
    """An item of the backup: `group_resource` as in the archive ("pods", "deployments.apps")."""

    group_resource: str
    namespace: str  # "" for cluster-scoped items; the SOURCE namespace
    name: str


@dataclass(frozen=True)
class AppliesTo:
    """Which items an action sees. Empty includes mean all; globs allowed, as in Velero."""

    included_resources: tuple[str, ...] = ()
    excluded_resources: tuple[str, ...] = ()
    included_namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()
    label_selector: str | None = None  # Kubernetes selector syntax, matched on the current labels


@dataclass
class ActionInput:
    item: dict[str, Any]  # the object being restored; the action may change it in place
    item_from_backup: Mapping[str, Any]  # the object as the backup holds it: do not change
    restore: RestoreView


@dataclass
class ActionResult:
    item: dict[str, Any]
    skip_restore: bool = False
    additional_items: list[ResourceIdentifier] = field(default_factory=list)
    wait_for_additional_items: bool = False
    additional_items_ready_timeout: float | None = None
    operation_id: str = ""  # an async operation to track (RestoreItemAction v2)


@dataclass
class OperationProgress:
    """What `progress()` reports of an async operation (Velero's OperationProgress)."""

    completed: bool = False
    error: str = ""  # with completed: the operation failed
    n_completed: int = 0
    n_total: int = 0
    operation_units: str = ""  # e.g. "bytes"
    description: str = ""
    started: datetime | None = None
    updated: datetime | None = None


@runtime_checkable
class RestoreView(Protocol):
    """What an action may know of the restore (implemented by the engine)."""

    @property
    def name(self) -> str: ...  # the restore's name

    @property
    def uid(self) -> str: ...  # a UUID fixed for this restore

    @property
    def backup_name(self) -> str: ...

    @property
    def backup(self) -> Mapping[str, Any]: ...  # velero-backup.json (the Backup object)

    @property
    def plan(self) -> Any: ...  # restoreflow.plan.model.RestorePlan

    @property
    def cluster(self) -> ClusterReader: ...

    @property
    def backup_contents(self) -> Any: ...  # the opened backup: archive items and side files


@runtime_checkable
class ClusterReader(Protocol):
    """Read access to the target cluster for actions (rate-limited and retried by the engine).

    `resource` is a resource name as a user writes it ("storageclasses", "serviceaccounts",
    "volumesnapshotclasses.snapshot.storage.k8s.io"); it is resolved through discovery.
    """

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The object, or None when it does not exist (404)."""
        ...

    def list(
        self, resource: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]: ...


@runtime_checkable
class RestoreItemAction(Protocol):
    """A restore item action: built-in (restoreflow.actions.*) or a plugin (entry point)."""

    name: str  # e.g. "velero.io/service"; actions run sorted by name (Velero's order)

    def applies_to(self) -> AppliesTo: ...

    def execute(self, action_input: ActionInput) -> ActionResult: ...


@runtime_checkable
class AsyncRestoreItemAction(RestoreItemAction, Protocol):
    """An action that starts work it does not wait for (Velero's RestoreItemAction v2).

    `execute()` returns an `operation_id`; once the items are restored, the engine polls
    `progress()` until every operation completed or the plan's itemOperationTimeout passed, when it
    calls `cancel()`. Completed with an error, raising, or timing out is an error of the restore.
    """

    def progress(self, operation_id: str, restore: RestoreView) -> OperationProgress: ...

    def cancel(self, operation_id: str, restore: RestoreView) -> None: ...


class ActionError(Exception):
    """An action could not prepare the item: the item fails with `error preparing <id>: <msg>`."""
