"""The restore item actions of a restore, in Velero's order, and the plugin discovery.

Order: the built-in actions sorted by name (`velero.io/add-pvc-from-pod` ... `velero.io/service-account`,
including `velero.io/dataupload`, `velero.io/init-restore-hook` and `velero.io/pod-volume-restore`),
then the CSI actions sorted by name (`velero.io/csi-pvc-restorer` ...), then plugins sorted by name.

Plugins are Python packages declaring entry points in the group `restoreflow.restore_item_actions`;
each entry point names a class or factory that returns an action (no arguments). A plugin never
crashes a restore: one that cannot be loaded is left out with a warning (`LoadedActions.problems`,
reported once per restore), and one that raises or returns something other than an `ActionResult`
fails only the item it was given, with a message naming the plugin.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from restoreflow.actions.add_pvc_from_pod import AddPVCFromPodAction
from restoreflow.actions.admission_webhook_configuration import AdmissionWebhookConfigurationAction
from restoreflow.actions.apiservice import APIServiceAction
from restoreflow.actions.base import (
    ActionError,
    ActionInput,
    ActionResult,
    AppliesTo,
    OperationProgress,
    ResourceIdentifier,
    RestoreItemAction,
)
from restoreflow.actions.change_image_name import ChangeImageNameAction
from restoreflow.actions.change_storage_class import ChangeStorageClassAction
from restoreflow.actions.cluster_role_bindings import ClusterRoleBindingAction
from restoreflow.actions.crd_preserve_fields import CRDPreserveFieldsAction
from restoreflow.actions.csi.pvc import CsiPvcRestorerAction
from restoreflow.actions.csi.volumesnapshot import CsiVolumeSnapshotRestorerAction
from restoreflow.actions.csi.volumesnapshotclass import CsiVolumeSnapshotClassRestorerAction
from restoreflow.actions.csi.volumesnapshotcontent import CsiVolumeSnapshotContentRestorerAction
from restoreflow.actions.dataupload import DataUploadRetrieveAction
from restoreflow.actions.init_restore_hook import InitRestoreHookAction
from restoreflow.actions.job import JobAction
from restoreflow.actions.pod import PodAction
from restoreflow.actions.pod_volume_restore import PodVolumeRestoreAction
from restoreflow.actions.pvc import PVCAction
from restoreflow.actions.role_bindings import RoleBindingAction
from restoreflow.actions.secret import SecretAction
from restoreflow.actions.service import ServiceAction
from restoreflow.actions.service_account import ServiceAccountAction

ENTRY_POINT_GROUP = "restoreflow.restore_item_actions"

# name -> class, in the order Velero runs them: its own actions by name, then the CSI ones by name.
BUILTIN_ACTIONS: dict[str, type[RestoreItemAction]] = {
    "velero.io/add-pvc-from-pod": AddPVCFromPodAction,
    "velero.io/admission-webhook-configuration": AdmissionWebhookConfigurationAction,
    "velero.io/apiservice": APIServiceAction,
    "velero.io/change-image-name": ChangeImageNameAction,
    "velero.io/change-storage-class": ChangeStorageClassAction,
    "velero.io/cluster-role-bindings": ClusterRoleBindingAction,
    "velero.io/crd-preserve-fields": CRDPreserveFieldsAction,
    "velero.io/dataupload": DataUploadRetrieveAction,
    "velero.io/init-restore-hook": InitRestoreHookAction,
    "velero.io/job": JobAction,
    "velero.io/pod": PodAction,
    "velero.io/pod-volume-restore": PodVolumeRestoreAction,
    "velero.io/pvc": PVCAction,
    "velero.io/role-bindings": RoleBindingAction,
    "velero.io/secret": SecretAction,
    "velero.io/service": ServiceAction,
    "velero.io/service-account": ServiceAccountAction,
    "velero.io/csi-pvc-restorer": CsiPvcRestorerAction,
    "velero.io/csi-volumesnapshot-restorer": CsiVolumeSnapshotRestorerAction,
    "velero.io/csi-volumesnapshotclass-restorer": CsiVolumeSnapshotClassRestorerAction,
    "velero.io/csi-volumesnapshotcontent-restorer": CsiVolumeSnapshotContentRestorerAction,
}


class LoadedActions(list[RestoreItemAction]):
    """The ordered actions of one restore, plus the problems met loading plugins (to report once
    as restore warnings)."""

    def __init__(self, actions: Iterable[RestoreItemAction] = (), problems: Iterable[str] = ()) -> None:
        super().__init__(actions)
        self.problems: list[str] = list(problems)


def load_actions(plan: Any = None) -> LoadedActions:
    """Fresh action instances for one restore (they may cache per-restore data such as Velero's
    plugin ConfigMaps), then the plugins by name. `plan` is the RestorePlan; the actions read it
    from the restore view."""
    builtins = [cls() for cls in BUILTIN_ACTIONS.values()]
    plugins, warnings = discover_plugins(taken=set(BUILTIN_ACTIONS))
    return LoadedActions([*builtins, *plugins], warnings)


def discover_plugins(taken: set[str] | None = None) -> tuple[list[RestoreItemAction], list[str]]:
    """Plugin actions from the entry-point group, sorted by name, and one warning per broken plugin."""
    taken = set(taken or ())
    plugins: list[PluginAction] = []
    warnings: list[str] = []
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            plugin = PluginAction.load(entry_point)
        except PluginLoadError as error:
            warnings.append(str(error))
            continue
        if plugin.name in taken:
            warnings.append(
                f"restore item action plugin {entry_point.name} ({entry_point.value}) ignored: "
                f"an action named {plugin.name} is already registered"
            )
            continue
        taken.add(plugin.name)
        plugins.append(plugin)
    return sorted(plugins, key=lambda p: p.name), warnings


class PluginLoadError(Exception):
    """A plugin that cannot be used; the message names the entry point and what went wrong."""


class PluginAction:
    """A plugin behind a guard: its failures become errors of the item it was given."""

    def __init__(self, action: Any, applies_to: AppliesTo, source: str) -> None:
        self.name: str = action.name
        self.source = source
        self._action = action
        self._applies_to = applies_to

    @classmethod
    def load(cls, entry_point: EntryPoint) -> PluginAction:
        source = f"{entry_point.name} ({entry_point.value})"
        prefix = f"restore item action plugin {source} could not be loaded"
        try:
            loaded = entry_point.load()
            action = loaded() if callable(loaded) else loaded
        except Exception as error:
            raise PluginLoadError(f"{prefix}: {type(error).__name__}: {error}") from None
        if not isinstance(action, RestoreItemAction) or not isinstance(action.name, str) or not action.name:
            raise PluginLoadError(
                f"{prefix}: {type(action).__name__} is not a restore item action "
                "(it needs a non-empty `name`, `applies_to()` and `execute()`)"
            )
        try:
            applies_to = action.applies_to()
        except Exception as error:
            raise PluginLoadError(f"{prefix}: applies_to() raised {type(error).__name__}: {error}") from None
        if not isinstance(applies_to, AppliesTo):
            raise PluginLoadError(
                f"{prefix}: applies_to() returned {type(applies_to).__name__}, want AppliesTo"
            )
        return cls(action, applies_to, source)

    def applies_to(self) -> AppliesTo:
        return self._applies_to

    def execute(self, action_input: ActionInput) -> ActionResult:
        try:
            result = self._action.execute(action_input)
        except ActionError as error:
            raise ActionError(f"plugin {self.name}: {error}") from None
        except Exception as error:
            raise ActionError(f"plugin {self.name} raised {type(error).__name__}: {error}") from None
        self._check(result)
        return result

    def progress(self, operation_id: str, restore: Any) -> OperationProgress:
        """The plugin's report on an operation it started; ActionError naming it otherwise."""
        method = getattr(self._action, "progress", None)
        if not callable(method):
            raise ActionError(f"plugin {self.name} does not report the progress of operations")
        try:
            report = method(operation_id, restore)
        except Exception as error:
            raise ActionError(f"plugin {self.name} raised {type(error).__name__}: {error}") from None
        if not isinstance(report, OperationProgress):
            raise ActionError(f"plugin {self.name} returned {type(report).__name__}, want OperationProgress")
        return report

    def cancel(self, operation_id: str, restore: Any) -> None:
        method = getattr(self._action, "cancel", None)
        if callable(method):
            method(operation_id, restore)

    def _check(self, result: Any) -> None:
        if not isinstance(result, ActionResult):
            raise ActionError(f"plugin {self.name} returned {type(result).__name__}, want ActionResult")
        if not isinstance(result.item, dict):
            raise ActionError(
                f"plugin {self.name} returned an item of type {type(result.item).__name__}, want dict"
            )
        for extra in result.additional_items:
            if not isinstance(extra, ResourceIdentifier):
                raise ActionError(
                    f"plugin {self.name} returned additional item {extra!r}, want ResourceIdentifier"
                )
