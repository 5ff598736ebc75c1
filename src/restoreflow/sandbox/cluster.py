"""One sandbox cluster: the store, the served types and the REST semantics of the API server.

Create, get, list, update, patch and delete behave as the API server's generic registry does:
resourceVersion preconditions, finalizers and deletionTimestamp, dry-run, generateName, status
subresource, Terminating namespaces. Controllers (the controllers package) react to the stored changes.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections.abc import Callable
from typing import Any

from restoreflow.kube.gvr import split_api_version
from restoreflow.sandbox import admission, quota, status
from restoreflow.sandbox.catalog import Catalog, ResourceType, Target
from restoreflow.sandbox.controllers import Controllers
from restoreflow.sandbox.controllers.garbage import FOREGROUND, drop_owner
from restoreflow.sandbox.options import SandboxOptions
from restoreflow.sandbox.patching import APPLY, apply_configuration, apply_patch, forget_unapplied, media_type
from restoreflow.sandbox.schemas import prune_object, validate_object, version_schema
from restoreflow.sandbox.selectors import field_matcher, label_matcher
from restoreflow.sandbox.store import Store, new_uid, now
from restoreflow.sandbox.validation import NAME_RULES, FieldError, invalid, object_meta

Scheduler = Callable[[float, Callable[[], None]], None]
Response = tuple[int, dict[str, Any]]
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


class Cluster:
    """The state of one sandbox. `later(delay, fn)` runs controller work on the server's loop."""

    def __init__(self, options: SandboxOptions, later: Scheduler) -> None:
        self.options = options
        self.catalog = Catalog.builtin()
        self.store = Store()
        self.alive = True
        self._later = later
        self.random = random.Random(options.seed)
        self.allocations = admission.Allocations(options.port_range())
        self.controllers = Controllers(self)
        # (uid, field manager, subresource) -> the configuration it last applied
        self.applied: dict[tuple[str, str, str], dict[str, Any]] = {}

    # -- scheduling ---------------------------------------------------------------------------------

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        """Run fn after delay, unless the cluster was reset meanwhile."""

        def run() -> None:
            if self.alive:
                fn()

        self._later(max(delay, 0.0), run)

    # -- helpers ------------------------------------------------------------------------------------

    def rtype(self, group_resource: str) -> ResourceType:
        rtype = self.catalog.by_group_resource(group_resource)
        if rtype is None:
            raise KeyError(group_resource)
        return rtype

    def find(self, group_resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        rtype = self.catalog.by_group_resource(group_resource)
        return self.store.get(rtype, namespace if rtype.namespaced else "", name) if rtype else None

    def write(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a controller's change (no admission); obj must be a new dict."""
        return self.store.put(rtype, obj)

    def load(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store an object as given (pre-existing state): system fields filled in when missing."""
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        rtype = self.catalog_kind(api_version, kind)
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not rtype.namespaced:
            meta.pop("namespace", None)
        elif not meta.get("namespace"):
            meta["namespace"] = "default"
        meta.setdefault("uid", new_uid())
        meta.setdefault("creationTimestamp", now())
        if rtype.tracks_generation:
            meta.setdefault("generation", 1)
        meta.pop("resourceVersion", None)
        if rtype.kind == "Namespace" and not rtype.custom:
            obj.setdefault("status", {"phase": "Active"})
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        if rtype.kind == "Service" and not rtype.custom:
            self.allocations.record(obj)
        stored = self.store.put(rtype, obj)
        self.controllers.loaded(rtype, stored)
        return stored

    def catalog_kind(self, api_version: str, kind: str) -> ResourceType:
        group, version = split_api_version(api_version)
        for rtype in self.catalog.types.values():
            if rtype.group == group and rtype.kind == kind and version in rtype.versions:
                return rtype
        raise KeyError(f"no resource of kind {kind!r} in {api_version!r} is served")

    def _check_kind(self, rtype: ResourceType, version: str, obj: dict[str, Any]) -> None:
        """A body of another kind than the URL's: the decoder refuses a built-in one (400), validation a
        custom resource (422), as kube-apiserver does; an absent kind is taken from the URL."""
        sent = obj.get("kind")
        if not sent or sent == rtype.kind:
            return
        if rtype.custom:
            error = FieldError("FieldValueInvalid", "kind", sent, f"must be {rtype.kind}")
            name = (obj.get("metadata") or {}).get("name", "")
            raise invalid(f"{sent}.{rtype.group}", rtype.group, name, [error])
        try:
            self.catalog_kind(rtype.api_version(version), sent)
        except KeyError:
            return
        internal = rtype.group.split(".")[0] or "core"
        raise status.bad_request(
            f'{sent} in version "{version}" cannot be handled as a {rtype.kind}: '
            f"converting ({version}.{sent}) to ({internal}.{rtype.kind}): unknown conversion"
        )

    def _gr(self, rtype: ResourceType) -> tuple[str, str]:
        return rtype.group, rtype.resource

    def served(self, rtype: ResourceType, obj: dict[str, Any], version: str) -> dict[str, Any]:
        """The object as the requested version shows it (CRD versions share one schema here)."""
        if obj.get("apiVersion") == rtype.api_version(version):
            return obj
        return {**obj, "apiVersion": rtype.api_version(version)}

    def _namespace_gate(self, target: Target, name: str) -> None:
        """Create needs an existing, non-terminating namespace."""
        if not target.rtype.namespaced:
            return
        ns = self.store.get(self.rtype("namespaces"), "", target.namespace)
        if ns is None:
            raise status.not_found(("", "namespaces"), target.namespace)
        if ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
            raise status.terminating(self._gr(target.rtype), name, target.namespace)

    def _validate(self, rtype: ResourceType, obj: dict[str, Any], creating: bool) -> None:
        _check_decodable(rtype, obj)
        meta = obj["metadata"]
        errors = object_meta(meta, rtype.name_rule, creating=creating)
        if creating and not meta.get("name") and meta.get("generateName"):
            prefix = meta["generateName"]
            masked = prefix[:-1] + "a" if prefix.endswith("-") else prefix
            errors += [
                FieldError("FieldValueInvalid", "metadata.generateName", prefix, m)
                for m in NAME_RULES[rtype.name_rule](masked)
            ]
        errors += admission.validate_kind(rtype, obj)
        if errors:
            raise invalid(
                rtype.qualified_kind, rtype.group, meta.get("name") or meta.get("generateName", ""), errors
            )

    def _schema(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any] | None:
        crd = self.find(
            "customresourcedefinitions.apiextensions.k8s.io", "", f"{rtype.resource}.{rtype.group}"
        )
        return version_schema(crd, obj.get("apiVersion", "").rpartition("/")[2])

    def _pruned(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Custom resources keep only what their CRD's schema declares (structural pruning), then
        must satisfy it (422 Invalid with the schema validator's messages)."""
        if not rtype.custom:
            return obj
        schema = self._schema(rtype, obj)
        pruned = prune_object(obj, schema)
        errors = validate_object(pruned, schema)
        if errors:
            raise invalid(rtype.qualified_kind, rtype.group, obj["metadata"].get("name", ""), errors)
        return pruned

    def _generate_name(self, prefix: str) -> str:
        return prefix + "".join(self.random.choice(_NAME_CHARS) for _ in range(5))

    # -- create -------------------------------------------------------------------------------------

    def create(self, target: Target, body: Any, dry_run: bool = False) -> Response:
        rtype = target.rtype
        obj = _as_object(body)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise status.bad_request("metadata must be an object")
        if rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != target.namespace:
                raise status.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = target.namespace
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise status.internal("resourceVersion should not be set on objects to be created")
        _check_api_version(obj, rtype.api_version(target.version))
        self._check_kind(rtype, target.version, obj)
        obj["apiVersion"], obj["kind"] = rtype.api_version(target.version), rtype.kind
        self._validate(rtype, obj, creating=True)
        if not meta.get("name"):
            meta["name"] = self._generate_name(meta["generateName"])
        name = meta["name"]
        self._namespace_gate(target, name)
        if self.store.get(rtype, meta.get("namespace", ""), name) is not None:
            self._refuse_taken_addresses(rtype, obj, name)
            raise status.already_exists(self._gr(rtype), name)
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(key, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now()
        meta.pop("generation", None)
        if rtype.tracks_generation:
            meta["generation"] = 1
        default_class = (
            self._default_storage_class() if rtype.group_resource == "persistentvolumeclaims" else None
        )
        admission.apply_create_defaults(rtype, obj, default_class)
        obj = self._pruned(rtype, obj)
        errors = admission.validate_created(rtype, obj) or self._allocate(rtype, obj, None, dry_run)
        if errors:
            raise invalid(rtype.qualified_kind, rtype.group, name, errors)
        refused = quota.admit_create(self, rtype, obj)
        if refused is not None:
            if not dry_run and rtype.kind == "Service" and not rtype.custom:
                self.allocations.release(obj)  # the API server rolls its allocations back
            raise refused
        if dry_run:
            return 201, self.served(rtype, obj, target.version)
        return 201, self.served(rtype, self.store.put(rtype, obj), target.version)

    def _refuse_taken_addresses(self, rtype: ResourceType, obj: dict[str, Any], name: str) -> None:
        """A Service's IPs and ports are allocated before storage: a create repeating an existing
        Service's explicit nodePort fails with 422 "already allocated", not 409 (Velero #2308)."""
        if rtype.kind != "Service" or rtype.custom:
            return
        probe = copy.deepcopy(obj)
        probe["metadata"] = {"namespace": "", "name": ""}  # an owner that holds nothing yet
        errors = admission.allocate_service(self.allocations, probe, None, dry_run=True)
        if errors:
            raise invalid(rtype.qualified_kind, rtype.group, name, errors)

    def _allocate(
        self, rtype: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None, dry_run: bool
    ) -> list[FieldError]:
        if rtype.kind == "Service" and not rtype.custom:
            return admission.allocate_service(self.allocations, obj, old, dry_run)
        return []

    def _default_storage_class(self) -> str | None:
        return admission.default_class_name(self.store.items(self.rtype("storageclasses.storage.k8s.io")))

    # -- read ---------------------------------------------------------------------------------------

    def get(self, target: Target) -> Response:
        obj = self._existing(target)
        if target.subresource and target.subresource != "status":
            raise status.method_not_allowed()
        return 200, self.served(target.rtype, obj, target.version)

    def _existing(self, target: Target) -> dict[str, Any]:
        obj = self.store.get(target.rtype, target.namespace, target.name)
        if obj is None:
            raise status.not_found(self._gr(target.rtype), target.name)
        return obj

    def list(self, target: Target, query: dict[str, str]) -> Response:
        rtype = target.rtype
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"), rtype.group_resource)
        items = [o for o in self.store.items(rtype, target.namespace or None) if labels(o) and fields(o)]
        meta: dict[str, Any] = {"resourceVersion": str(self.store.revision)}
        items, meta = self._paginate(items, query, meta)
        shown = [self._list_item(rtype, o, target.version) for o in items]
        return 200, {
            "kind": f"{rtype.kind}List",
            "apiVersion": rtype.api_version(target.version),
            "metadata": meta,
            "items": shown,
        }

    def _list_item(self, rtype: ResourceType, obj: dict[str, Any], version: str) -> dict[str, Any]:
        """Built-in lists carry their items without kind/apiVersion, as the API server encodes them."""
        if rtype.custom:
            return self.served(rtype, obj, version)
        return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}

    def _paginate(
        self, items: list[dict[str, Any]], query: dict[str, str], meta: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        start = 0
        if query.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(query["continue"]))
                start = int(token["start"])
            except (ValueError, KeyError, TypeError):
                raise status.bad_request(
                    "continue key is not valid: illegal base64 data at input byte 0"
                ) from None
        limit = int(query.get("limit") or 0)
        if limit <= 0:
            return items[start:], meta
        page = items[start : start + limit]
        remaining = len(items) - start - len(page)
        if remaining > 0:
            token = json.dumps({"rv": self.store.revision, "start": start + limit}).encode()
            meta["continue"] = base64.urlsafe_b64encode(token).decode()
            meta["remainingItemCount"] = remaining
        return page, meta

    # -- update and patch ---------------------------------------------------------------------------

    def update(self, target: Target, body: Any, dry_run: bool = False) -> Response:
        obj = _as_object(body)
        rtype = target.rtype
        if not target.subresource:
            _check_api_version(obj, rtype.api_version(target.version))
        missing = self.store.get(rtype, target.namespace, target.name) is None
        if (
            missing
            and not target.subresource
            and not rtype.custom
            and rtype.group_resource in CREATE_ON_UPDATE
        ):
            meta = obj.setdefault("metadata", {})
            if isinstance(meta, dict) and meta.get("name", target.name) == target.name:
                meta["name"] = target.name
                meta.pop("resourceVersion", None)
                return self.create(Target(rtype, target.version, target.namespace), obj, dry_run)
        old = self._existing(target)
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if meta.get("uid") and meta["uid"] != old["metadata"].get("uid"):
            raise self._uid_conflict(target, meta["uid"], old["metadata"].get("uid", ""))
        return self._replace(target, old, obj, dry_run)

    def _uid_conflict(self, target: Target, sent: str, stored: str) -> status.ApiError:
        """A PUT or DELETE whose uid precondition names another object."""
        why = f"Precondition failed: UID in precondition: {sent}, UID in object meta: {stored}"
        return status.conflict(self._gr(target.rtype), target.name, why)

    def evict(self, target: Target, body: Any, dry_run: bool = False) -> Response:
        """pods/eviction: the pod is deleted (disruption budgets are not consulted)."""
        eviction = _as_object(body)
        pod = Target(target.rtype, target.version, target.namespace, target.name)
        self.delete(pod, eviction.get("deleteOptions") or {}, dry_run)
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    def patch(
        self, target: Target, body: Any, content_type: str, dry_run: bool = False, manager: str | None = None
    ) -> Response:
        if media_type(content_type) == APPLY:
            return self.apply(target, body, manager or "", dry_run)
        old = self._existing(target)
        current = self.served(target.rtype, copy.deepcopy(old), target.version)
        patched = apply_patch(current, body, content_type, target.rtype.custom)
        if not isinstance(patched, dict):
            raise status.bad_request("the patch did not produce an object")
        return self._replace(target, old, patched, dry_run)

    def apply(self, target: Target, body: Any, manager: str, dry_run: bool = False) -> Response:
        """Server-side apply: creates the object when missing (201), else merges the configuration."""
        if not manager:
            error = FieldError("FieldValueRequired", "fieldManager", detail="is required for apply patch")
            raise invalid("PatchOptions.meta.k8s.io", "meta.k8s.io", "", [error])
        applied = _as_object(body)
        meta = applied.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise status.bad_request("metadata must be an object")
        if meta.get("name", target.name) != target.name:
            message = f"the name of the object ({meta.get('name')}) does not match the name on the URL"
            raise status.bad_request(f"{message} ({target.name})")
        meta["name"] = target.name
        old = self.store.get(target.rtype, target.namespace, target.name)
        if old is None:
            if target.subresource:
                raise status.not_found(self._gr(target.rtype), target.name)
            sent = copy.deepcopy(applied)
            code, created = self.create(
                Target(target.rtype, target.version, target.namespace), applied, dry_run
            )
            if not dry_run:
                self.applied[(created["metadata"]["uid"], manager, target.subresource)] = sent
            return code, created
        key = (old["metadata"].get("uid", ""), manager, target.subresource)
        current = self.served(target.rtype, copy.deepcopy(old), target.version)
        current = forget_unapplied(current, self.applied.get(key) or {}, applied)
        sent = copy.deepcopy(applied)
        patched = apply_configuration(current, applied, target.rtype.custom)
        result = self._replace(target, old, patched, dry_run)
        if not dry_run:
            self.applied[key] = sent
        return result

    def _replace(self, target: Target, old: dict[str, Any], obj: dict[str, Any], dry_run: bool) -> Response:
        rtype = target.rtype
        meta = obj.setdefault("metadata", {})
        if meta.get("name", target.name) != target.name:
            message = f"the name of the object ({meta.get('name')}) does not match the name on the URL"
            raise status.bad_request(f"{message} ({target.name})")
        self._check_resource_version(
            target, meta.get("resourceVersion") or "", old["metadata"]["resourceVersion"]
        )
        obj = self._merge_system_fields(target, old, obj)
        self._validate(rtype, obj, creating=False)
        errors = []
        if target.subresource != "status":
            admission.apply_defaults(rtype, obj)
            errors = admission.validate_update(rtype, old, obj)
        obj = self._pruned(rtype, obj)
        errors = errors or self._allocate(rtype, obj, old, dry_run)
        if errors:
            raise invalid(rtype.qualified_kind, rtype.group, target.name, errors)
        if _same(obj, old):
            return 200, self.served(rtype, old, target.version)
        if dry_run:
            return 200, self.served(rtype, obj, target.version)
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            self.store.put(rtype, obj)
            gone = self.store.remove(rtype, obj["metadata"].get("namespace", ""), target.name)
            return 200, self.served(rtype, gone or obj, target.version)
        return 200, self.served(rtype, self.store.put(rtype, obj), target.version)

    def _check_resource_version(self, target: Target, sent: str, stored: str) -> None:
        """Optimistic concurrency: a stale version conflicts; custom resources require one."""
        rtype = target.rtype
        if sent and sent != stored:
            raise status.conflict(self._gr(rtype), target.name, status.MODIFIED)
        if not sent and rtype.custom:
            detail = "must be specified for an update"
            error = _RawFieldError("FieldValueInvalid", "metadata.resourceVersion", "0x0", detail)
            raise invalid(rtype.qualified_kind, rtype.group, target.name, [error])

    def _merge_system_fields(
        self, target: Target, old: dict[str, Any], obj: dict[str, Any]
    ) -> dict[str, Any]:
        """What an update may not change: identity, timestamps, and the other half of status/spec."""
        rtype = target.rtype
        if target.subresource == "status":
            obj = {**copy.deepcopy(old), "status": obj.get("status")}
            if obj["status"] is None:
                obj.pop("status")
            return obj
        meta = obj["metadata"]
        old_meta = old["metadata"]
        if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
            error = FieldError("FieldValueInvalid", "metadata.uid", meta["uid"], "field is immutable")
            raise invalid(rtype.qualified_kind, rtype.group, target.name, [error])
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if rtype.namespaced:
            meta["namespace"] = old_meta.get("namespace", "")
        meta["name"] = target.name
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        obj["apiVersion"], obj["kind"] = old["apiVersion"], old["kind"]
        if rtype.has_status():
            if "status" in old:
                obj["status"] = old["status"]
            else:
                obj.pop("status", None)
        if rtype.kind == "Namespace" and not rtype.custom:
            obj["spec"] = old.get("spec", {})
        if rtype.tracks_generation and _spec_changed(old, obj):
            meta["generation"] = old_meta.get("generation", 1) + 1
        return obj

    def scale(
        self, target: Target, verb: str, body: Any, content_type: str, dry_run: bool = False
    ) -> Response:
        """The scale subresource: an autoscaling/v1 Scale view of spec.replicas."""
        obj = self._existing(target)
        current = _scale_of(obj)
        if verb == "get":
            return 200, current
        wanted = apply_patch(current, body, content_type, False) if verb == "patch" else _as_object(body)
        changed = copy.deepcopy(obj)
        changed["spec"]["replicas"] = (wanted.get("spec") or {}).get("replicas", 0)
        sent_rv = (wanted.get("metadata") or {}).get("resourceVersion")
        changed["metadata"]["resourceVersion"] = sent_rv or obj["metadata"]["resourceVersion"]
        main = Target(target.rtype, target.version, target.namespace, target.name)
        code, result = self._replace(main, obj, changed, dry_run)
        return code, _scale_of(result)

    # -- delete -------------------------------------------------------------------------------------

    def delete(self, target: Target, body: Any, dry_run: bool = False) -> Response:
        """DELETE with DeleteOptions (body or query): preconditions, finalizers, propagation."""
        rtype = target.rtype
        options = body if isinstance(body, dict) else {}
        old = self._existing(target)
        self._check_preconditions(target, old, options)
        policy = _propagation(rtype, options)
        if rtype.kind == "Namespace" and not rtype.custom:
            return self._delete_namespace(target, old, dry_run)
        if policy == "Foreground" and not dry_run and not old["metadata"].get("deletionTimestamp"):
            old = copy.deepcopy(old)
            old["metadata"]["finalizers"] = [*(old["metadata"].get("finalizers") or []), FOREGROUND]
        if old["metadata"].get("finalizers"):
            if dry_run or old["metadata"].get("deletionTimestamp"):
                return 200, self.served(rtype, old, target.version)
            marked = copy.deepcopy(old)
            marked["metadata"]["deletionTimestamp"] = now()
            marked["metadata"]["deletionGracePeriodSeconds"] = 0
            return 200, self.served(rtype, self.store.put(rtype, marked), target.version)
        if policy == "Orphan" and not dry_run:
            for (group, resource), dependent in self.store.dependents(old["metadata"].get("uid", "")):
                self.store.put(
                    self.catalog.types[(group, resource)], drop_owner(dependent, old["metadata"]["uid"])
                )
        if not dry_run:
            self.store.remove(rtype, target.namespace, target.name)
            if rtype.kind == "Service" and not rtype.custom:
                self.allocations.release(old)
        if rtype.returns_deleted:
            return 200, self.served(rtype, old, target.version)
        details: dict[str, Any] = {"name": target.name}
        if rtype.group:
            details["group"] = rtype.group
        details |= {"kind": rtype.resource, "uid": old["metadata"].get("uid")}
        return 200, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def _check_preconditions(self, target: Target, old: dict[str, Any], options: dict[str, Any]) -> None:
        pre = options.get("preconditions") or {}
        meta = old["metadata"]
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise self._uid_conflict(target, pre["uid"], meta.get("uid", ""))
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            why = (
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta.get('resourceVersion')}"
            )
            raise status.conflict(self._gr(target.rtype), target.name, why)

    def _delete_namespace(self, target: Target, old: dict[str, Any], dry_run: bool) -> Response:
        if target.name in IMMORTAL_NAMESPACES:
            raise status.forbidden(("", "namespaces"), target.name, "this namespace may not be deleted")
        if dry_run or old["metadata"].get("deletionTimestamp"):
            return 200, self.served(target.rtype, old, target.version)
        ns = copy.deepcopy(old)
        ns["metadata"]["deletionTimestamp"] = now()  # no grace period: kube-apiserver sets none here
        ns["status"] = {"phase": "Terminating"}
        stored = self.store.put(target.rtype, ns)
        self.controllers.namespace_terminating(target.name)
        return 200, self.served(target.rtype, stored, target.version)

    def delete_collection(
        self,
        target: Target,
        query: dict[str, str],
        dry_run: bool = False,
        options: dict[str, Any] | None = None,
    ) -> Response:
        _, listed = self.list(target, {k: v for k, v in query.items() if k != "limit"})
        options = {k: v for k, v in (options or {}).items() if k != "preconditions"}
        _propagation(target.rtype, options)
        for item in listed["items"]:
            meta = item["metadata"]
            one = Target(target.rtype, target.version, meta.get("namespace", ""), meta["name"])
            self.delete(one, options, dry_run)
        return 200, listed


# Types whose PUT creates a missing object (their strategies' AllowCreateOnUpdate).
CREATE_ON_UPDATE = frozenset(
    {
        "endpoints", "events", "events.events.k8s.io", "leases.coordination.k8s.io", "limitranges",
        "roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io",
        "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io",
    }
)  # fmt: skip
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
# Types whose dependents a DELETE without options orphans (kept for compatibility by Kubernetes).
ORPHANS_BY_DEFAULT = ("jobs.batch", "replicationcontrollers")


def _propagation(rtype: ResourceType, options: dict[str, Any]) -> str:
    policy = options.get("propagationPolicy")
    if policy is None:
        orphan = options.get("orphanDependents")
        if orphan is not None:
            return "Orphan" if orphan in (True, "true") else "Background"
        return "Orphan" if not rtype.custom and rtype.group_resource in ORPHANS_BY_DEFAULT else "Background"
    if policy not in PROPAGATION_POLICIES:
        detail = 'supported values: "Foreground", "Background", "Orphan", "nil"'
        error = FieldError("FieldValueNotSupported", "propagationPolicy", policy, detail)
        raise invalid("DeleteOptions.meta.k8s.io", "meta.k8s.io", "", [error])
    return policy


def _scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in selector.items()),
        },
    }


def _check_api_version(obj: dict[str, Any], expected: str) -> None:
    """A body naming another group/version than the URL is refused before anything else."""
    sent = obj.get("apiVersion")
    if sent and sent != expected:
        raise status.bad_request(
            f"the API version in the data ({sent}) does not match the expected API version ({expected})"
        )


def _as_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise status.bad_request(
            "the object provided is unrecognized (must be of type map[string]interface {})"
        )
    return body


class _RawFieldError(FieldError):
    """A field error whose value Go prints unquoted (e.g. 0x0)."""

    def body(self) -> str:
        return f"Invalid value: {self.value}: {self.detail}"


def _spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    skip = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in old.items() if k not in skip} != {k: v for k, v in new.items() if k not in skip}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """An update that changes nothing is not written (no new resourceVersion), as etcd3's store skips it."""
    return a == b


BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _check_decodable(rtype: ResourceType, obj: dict[str, Any]) -> None:
    """Secret and ConfigMap binary data are base64 in JSON: the API server cannot even decode a body
    whose values are not, and answers 400 before any validation (Go's CorruptInputError offset)."""
    field = {"Secret": "data", "ConfigMap": "binaryData"}.get(rtype.kind)
    if rtype.custom or field is None:
        return
    for value in (obj.get(field) or {}).values():
        raw = str(value).encode()
        bad = next((i for i, byte in enumerate(raw) if byte not in BASE64_ALPHABET), None)
        if bad is None:
            try:
                base64.b64decode(raw, validate=True)
                continue
            except ValueError:
                bad = len(raw) - len(raw) % 4 if len(raw) % 4 else max(len(raw) - 4, 0)
        raise status.bad_request(
            f'{rtype.kind} in version "v1" cannot be handled as a {rtype.kind}: '
            f"illegal base64 data at input byte {bad}"
        )
