"""The per-item pipeline, in Velero's order (restoreItem, section 3.8), safe to run from many workers."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Protocol

from restoreflow.actions.base import ActionInput, ResourceIdentifier, RestoreItemAction
from restoreflow.cluster import ApiError, ConnectionFault, ResourceInfo, wait_until
from restoreflow.kube.gvr import parse_group_resource, split_api_version
from restoreflow.kube.names import get_valid_name
from restoreflow.kube.selectors import EVERYTHING
from restoreflow.restore import hooks, operations, volumes
from restoreflow.restore.context import RestoreContext, fetched
from restoreflow.restore.existing import Tally, handle_existing, resource_id
from restoreflow.restore.matching import ResolvedAppliesTo
from restoreflow.restore.metadata import (
    BACKUP_NAME_LABEL,
    RESTORE_NAME_LABEL,
    MetadataNotFound,
    add_restore_labels,
    clone,
    is_completed,
    is_mirror_pod,
    labels_of,
    reset_metadata_and_status,
    resource_key,
    status_override,
)
from restoreflow.restore.namespaces import NamespaceError, Namespaces
from restoreflow.restore.resource_modifiers import ResourceModifiers
from restoreflow.restore.results import ItemKey, ItemStatus
from restoreflow.restore.selection import CRDS, Filters, ItemRef
from restoreflow.restore.volume_native import VolumeError

PORT_ALLOCATED = "provided port is already allocated"


class ItemObserver(Protocol):
    """Watches each item's restore call (the preview does); a restore runs without one."""

    def begin(self, obj: dict[str, Any], group_resource: str, target_namespace: str) -> None: ...

    def stage(self, name: str, obj: dict[str, Any]) -> None: ...  # the object after a transform

    def end(self) -> None: ...


class ItemRestorer:
    """Restores items of the backup one call at a time; each object is claimed once per restore."""

    def __init__(
        self,
        ctx: RestoreContext,
        filters: Filters,
        actions: list[RestoreItemAction],
        modifiers: ResourceModifiers | None = None,
    ) -> None:
        self.ctx = ctx
        self.filters = filters
        self.modifiers = modifiers
        self.namespaces = Namespaces(ctx)
        self.backup_label = get_valid_name(ctx.backup_name)
        self.restore_label = get_valid_name(ctx.name)
        self.actions = self._resolve_actions(actions)
        self._infos: dict[tuple[str, str, bool], ResourceInfo] = {}
        self._infos_lock = threading.Lock()
        self.crds_to_wait: set[str] = set()
        self.observer: ItemObserver | None = None
        self._applicable_cache: dict[tuple[str, str], list[tuple[RestoreItemAction, ResolvedAppliesTo]]] = {}

    def _resolve_actions(
        self, actions: list[RestoreItemAction]
    ) -> list[tuple[RestoreItemAction, ResolvedAppliesTo]]:
        prepared = self.ctx.prepared
        canonical = prepared.resolver.canonical if prepared else (lambda name: name)
        resolved = []
        for action in actions:
            try:
                resolved.append((action, ResolvedAppliesTo.resolve(action.applies_to(), canonical)))
            except Exception as error:
                self.ctx.results.add_velero_warning(f"restore item action {action.name} is not used: {error}")
        return resolved

    # -- entry points --------------------------------------------------------------------------------
    def restore_ref(self, ref: ItemRef, group_resource: str) -> None:
        """Read a listed item from the archive and restore it."""
        target = self.ctx.target_namespace(ref.namespace)
        obj = self._read(ref.resource_dir, ref.namespace, ref.name, target, ref.version_dir)
        if obj is not None:
            self.restore_item(obj, group_resource, target)
        self.ctx.count_done(group_resource)

    def _read(
        self, resource_dir: str, namespace: str, name: str, target: str, version_dir: str | None = None
    ) -> dict[str, Any] | None:
        archive = fetched(self.ctx).archive
        try:
            return archive.read_item(resource_dir, namespace, name, version_dir)
        except Exception as error:
            path = getattr(error, "path", None) or archive.item_path(resource_dir, namespace, name)
            reason = getattr(error, "message", None) or str(error)
            self.ctx.results.add_error(target, f'error decoding "{path}": {reason}')
            return None

    def restore_item(self, obj: dict[str, Any], group_resource: str, target_namespace: str) -> bool:
        """Velero's restoreItem; True when the object exists in the cluster afterwards."""
        if self.observer is None:
            return self._restore_item(obj, group_resource, target_namespace)
        self.observer.begin(obj, group_resource, target_namespace)
        try:
            return self._restore_item(obj, group_resource, target_namespace)
        finally:
            self.observer.end()

    def _restore_item(self, obj: dict[str, Any], group_resource: str, target_namespace: str) -> bool:
        ctx, filters = self.ctx, self.filters
        if not filters.include_resource(group_resource):
            return False
        metadata = obj.get("metadata") or {}
        source_namespace = metadata.get("namespace") or ""
        if target_namespace:
            if not filters.include_namespace(group_resource, source_namespace):
                return False
            try:
                self.namespaces.ensure(target_namespace, source_namespace)
            except NamespaceError:
                return False
        elif filters.include_cluster_resources is False:
            return False
        item_from_backup = clone(obj)
        if is_completed(obj, group_resource):
            ctx.log.info(
                "%s is completed, not restoring it",
                resource_id(group_resource, target_namespace, metadata.get("name", "")),
            )
            return False
        key = ItemKey(resource_key(obj), target_namespace, metadata.get("name", ""))
        status, first = ctx.restored.claim(key)
        if not first:
            return self._wait_for(status)
        tally = Tally(ctx.results, target_namespace)
        try:
            self._pipeline(obj, item_from_backup, group_resource, target_namespace, status, tally)
        except (ApiError, ConnectionFault) as error:
            tally.error(f"error restoring {resource_id(group_resource, target_namespace, key.name)}: {error}")
        except Exception as error:  # never stop the restore at one item
            ctx.log.exception("unexpected failure restoring %s", key)
            tally.error(f"error restoring {resource_id(group_resource, target_namespace, key.name)}: {error}")
        finally:
            if status.action is None:
                status.action = "skipped" if tally.clean else "failed"
            status.finish()
        return status.exists

    def _wait_for(self, status: ItemStatus) -> bool:
        """Another call restores this object: wait for it (unless it is our own caller, a cycle)."""
        if status.owner != threading.get_ident():
            status.wait(self.ctx.plan.spec.timeouts.resource)
        return status.exists

    # -- the pipeline ------------------------------------------------------------------------------
    def _pipeline(
        self,
        obj: dict[str, Any],
        item_from_backup: dict[str, Any],
        group_resource: str,
        namespace: str,
        status: ItemStatus,
        tally: Tally,
    ) -> None:
        ctx = self.ctx
        name = obj["metadata"].get("name", "")
        rid = resource_id(group_resource, namespace, name)
        if is_mirror_pod(obj, group_resource):
            ctx.log.info("%s is a mirror pod, not restoring it", rid)
            return
        if group_resource == "persistentvolumes":
            try:
                pv = volumes.handle_persistent_volume(ctx, obj)
            except VolumeError as error:
                tally.error(str(error))
                return
            if pv is None:
                return
            obj = pv
        saved_status = obj.get("status")
        try:
            reset_metadata_and_status(obj)
        except MetadataNotFound as error:
            tally.error(f"error restoring {rid}: {error}")
            return
        self._stage("", obj)
        prepared = self._run_actions(obj, item_from_backup, group_resource, namespace, rid, tally)
        if prepared is None:
            return
        obj = prepared
        if group_resource == "persistentvolumeclaims":
            obj = volumes.handle_persistent_volume_claim(ctx, obj)
            self._stage("persistent volume claim", obj)
        if self.modifiers:
            for problem in self.modifiers.apply(
                obj, group_resource, item_from_backup["metadata"].get("namespace", "")
            ):
                tally.error(str(problem))
            self._stage("resource modifiers", obj)
        if namespace:
            obj["metadata"]["namespace"] = namespace
            self._stage("namespace mapping", obj)
        add_restore_labels(obj, self.backup_label, self.restore_label)
        info = self._info(group_resource, obj, namespace, item_from_backup, tally)
        if info is None:
            return
        created = self._create(info, obj, rid, status, tally)
        if created is None:
            return
        self._after_create(info, created, obj, item_from_backup, saved_status, group_resource, rid, tally)

    def _stage(self, name: str, obj: dict[str, Any]) -> None:
        """Show the observer the object after a transform ("" is the object before any)."""
        if self.observer is not None:
            self.observer.stage(name, obj)

    def _applicable(
        self, group_resource: str, namespace: str
    ) -> list[tuple[RestoreItemAction, ResolvedAppliesTo]]:
        """The actions whose resources and namespaces match (cached); labels are checked per item."""
        key = (group_resource, namespace)
        found = self._applicable_cache.get(key)
        if found is None:
            found = [
                (action, applies)
                for action, applies in self.actions
                if replace(applies, selector=EVERYTHING).should_use(group_resource, namespace, None)
            ]
            self._applicable_cache[key] = found
        return found

    def _run_actions(
        self,
        obj: dict[str, Any],
        item_from_backup: dict[str, Any],
        group_resource: str,
        namespace: str,
        rid: str,
        tally: Tally,
    ) -> dict[str, Any] | None:
        """Step 9: the restore item actions that apply; None when the item is not to be created."""
        for action, applies in self._applicable(group_resource, namespace):
            if not applies.selector.empty() and not applies.should_use(
                group_resource, namespace, labels_of(obj)
            ):
                continue
            try:
                result = action.execute(ActionInput(obj, item_from_backup, self.ctx))
            except Exception as error:
                tally.error(f"error preparing {rid}: {error}")
                return None
            if result.operation_id:
                name = obj["metadata"].get("name", "")
                operations.record(self.ctx, action.name, group_resource, namespace, name, result.operation_id)
            if result.skip_restore:
                self.ctx.log.info("skipping restore of %s because a registered plugin discarded it", rid)
                return None
            obj = result.item
            self._stage(f"action {action.name}", obj)
            ready = [item for item in result.additional_items if self._restore_additional(item, tally)]
            if result.wait_for_additional_items and not self._additional_ready(
                action, ready, result, rid, tally
            ):
                return None
        return obj

    def _restore_additional(self, item: ResourceIdentifier, tally: Tally) -> bool:
        """An item an action needs first; read from its classic path, namespace mapped, restored now."""
        archive = fetched(self.ctx).archive
        if not archive.has_item(item.group_resource, item.namespace, item.name):
            path = archive.item_path(item.group_resource, item.namespace, item.name)
            tally.warn(f"stat {path}: no such file or directory", namespace=item.namespace)
            return False
        target = self.ctx.target_namespace(item.namespace)
        obj = self._read(item.group_resource, item.namespace, item.name, target)
        return obj is not None and self.restore_item(obj, item.group_resource, target)

    def _additional_ready(
        self, action: RestoreItemAction, items: list[ResourceIdentifier], result: Any, rid: str, tally: Tally
    ) -> bool:
        if self.ctx.dry_run:  # a preview creates nothing that could become ready
            return True
        timeout = result.additional_items_ready_timeout or self.ctx.plan.spec.timeouts.resource
        check = getattr(action, "are_additional_items_ready", None)

        def ready() -> bool:
            if check is not None:
                return bool(check(items, self.ctx))
            cluster = self.ctx.cluster
            return all(
                cluster.get(i.group_resource, i.name, self.ctx.target_namespace(i.namespace) or None)
                for i in items
            )

        try:
            if wait_until(ready, timeout, 1.0, self.ctx.cancel):
                return True
        except Exception as error:
            tally.error(f"error verifying additional items are ready to use: {error}")
            return False
        tally.error(f"additional items for {rid} are not ready to use")
        return False

    def _info(
        self,
        group_resource: str,
        obj: dict[str, Any],
        namespace: str,
        item_from_backup: dict[str, Any],
        tally: Tally,
    ) -> ResourceInfo | None:
        """Step 14: the resource to write to (re-resolved by kind when an action changed the kind)."""
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        discovery = self.ctx.cluster.discovery
        if (api_version, kind) != (item_from_backup.get("apiVersion"), item_from_backup.get("kind")):
            info = discovery.for_kind(api_version, kind)
            if info is None:
                tally.error(f"error getting GVR for {api_version}, Kind={kind}: no matches for kind {kind!r}")
                return None
            return info.at_version(api_version)
        cache_key = (group_resource, api_version, bool(namespace))
        cached = self._infos.get(cache_key)
        if cached is not None:
            return self._of_kind(cached, kind, obj, namespace, tally)
        info = discovery.resolve(group_resource)
        if info is None:  # not served: write anyway, so the API server's own answer is what we report
            resource, group = parse_group_resource(group_resource)
            version = split_api_version(api_version)[1]
            info = ResourceInfo(group, version, resource, kind, bool(namespace))
        info = info.at_version(api_version)
        with self._infos_lock:
            self._infos[cache_key] = info
        return self._of_kind(info, kind, obj, namespace, tally)

    def _of_kind(
        self, info: ResourceInfo, kind: str, obj: dict[str, Any], namespace: str, tally: Tally
    ) -> ResourceInfo | None:
        """The resource, unless the item's kind is not the one its folder holds (a hostile backup)."""
        if info.kind == kind:
            return info
        rid = resource_id(info.group_resource, namespace, obj["metadata"].get("name", ""))
        tally.error(
            f'error restoring {rid}: its kind "{kind}" is not {info.group_resource}\'s kind "{info.kind}"'
        )
        return None

    def _create(
        self, info: ResourceInfo, obj: dict[str, Any], rid: str, status: ItemStatus, tally: Tally
    ) -> dict[str, Any] | None:
        """Step 15-17: one write; existence is learned from the create's AlreadyExists answer."""
        cluster = self.ctx.cluster
        try:
            created = cluster.create(info, obj)
        except ApiError as error:
            if not self._already_exists(info, obj, error):
                tally.error(f"error restoring {rid}: {error}")
                return None
            live = self._live(info, obj, error, tally)
            if live is not None and error.after_lost_answer and self._made_by_this_restore(live):
                self.ctx.log.info("%s was created by this restore: the answer to its create was lost", rid)
                status.action, status.exists = "created", True
                return live
            if live is not None:
                handle_existing(self.ctx, info, obj, live, status, tally)
            return None
        except ConnectionFault as error:
            tally.error(f"error restoring {rid}: {error}")
            return None
        status.action, status.exists = "created", True
        return created

    def _made_by_this_restore(self, live: dict[str, Any]) -> bool:
        """Whether an object met after a lost answer is the one this restore's create stored."""
        labels = labels_of(live)
        return (labels.get(RESTORE_NAME_LABEL), labels.get(BACKUP_NAME_LABEL)) == (
            self.restore_label,
            self.backup_label,
        )

    def _already_exists(self, info: ResourceInfo, obj: dict[str, Any], error: ApiError) -> bool:
        if error.already_exists:
            return True
        if obj.get("kind") != "Service" or not error.causes:  # 422 for nodePorts, 500 for healthCheckNodePort
            return False
        if not all(PORT_ALLOCATED in (c.get("message") or "") for c in error.causes):
            return False
        metadata = obj["metadata"]
        return self.ctx.cluster.get(info, metadata["name"], metadata.get("namespace")) is not None

    def _live(
        self, info: ResourceInfo, obj: dict[str, Any], error: ApiError, tally: Tally
    ) -> dict[str, Any] | None:
        metadata = obj["metadata"]
        try:
            live = self.ctx.cluster.read(info, metadata["name"], metadata.get("namespace"))
        except (ApiError, ConnectionFault) as get_error:
            tally.warn(f"error getting {info.group_resource} {metadata['name']}: {get_error}")
            return None
        return live

    def _after_create(
        self,
        info: ResourceInfo,
        created: dict[str, Any],
        obj: dict[str, Any],
        item_from_backup: dict[str, Any],
        saved_status: Any,
        group_resource: str,
        rid: str,
        tally: Tally,
    ) -> None:
        """Steps 18-21: status, managedFields, pod volumes and hooks, CRD readiness (not in a preview:
        they follow from the create and need the object to exist)."""
        ctx = self.ctx
        if ctx.dry_run:
            return
        override = status_override(obj)
        wanted = override if override is not None else self.filters.restore_status_of(group_resource)
        if wanted and saved_status:
            created = self._restore_status(info, created, saved_status, rid, tally)
        self._restore_managed_fields(info, created, item_from_backup, rid, tally)
        if group_resource == "persistentvolumeclaims":
            volumes.track_csi_claim(ctx, created)
        if group_resource == "pods":
            try:
                volumes.start_pod_volume_restores(ctx, created, item_from_backup)
            except Exception as error:
                ctx.results.add_velero_error(f"error restoring pod volumes of {rid}: {error}")
            try:
                hooks.register_exec_hooks(ctx, created, item_from_backup)
            except Exception as error:
                tally.error(f"error registering exec hooks of {rid}: {error}")
        if group_resource == CRDS:
            with ctx.lock:
                self.crds_to_wait.add(created["metadata"]["name"])

    def _restore_status(
        self, info: ResourceInfo, created: dict[str, Any], saved_status: Any, rid: str, tally: Tally
    ) -> dict[str, Any]:
        """UpdateStatus with the created resourceVersion, re-reading on conflict."""
        current = created
        for _ in range(5):
            try:
                return self.ctx.cluster.update_status(info, {**current, "status": saved_status})
            except ApiError as error:
                if not error.conflict:
                    tally.warn(f"could not restore status of {rid}: {error}")
                    return created
                metadata = created["metadata"]
                current = self.ctx.cluster.read(info, metadata["name"], metadata.get("namespace"))
            except ConnectionFault as error:
                tally.warn(f"could not restore status of {rid}: {error}")
                return created
        tally.warn(f"could not restore status of {rid}: conflicting updates")
        return created

    def _restore_managed_fields(
        self,
        info: ResourceInfo,
        created: dict[str, Any],
        item_from_backup: dict[str, Any],
        rid: str,
        tally: Tally,
    ) -> None:
        """Step 19: keep the backed-up managedFields, patching only when the server replaced them."""
        wanted = (item_from_backup.get("metadata") or {}).get("managedFields")
        metadata = created.get("metadata") or {}
        if not wanted or metadata.get("managedFields") == wanted:
            return
        try:
            self.ctx.cluster.patch(
                info, metadata["name"], {"metadata": {"managedFields": wanted}}, metadata.get("namespace")
            )
        except ApiError as error:
            if error.not_found:
                tally.warn(f"error patching managed fields {rid}: {error}")
            else:
                tally.error(f"error patching managed fields {rid}: {error}")
        except ConnectionFault as error:
            tally.error(f"error patching managed fields {rid}: {error}")
