"""A Cluster whose every write is a server-side dry run (`dryRun=All`): the preview's door to the API.

The API server runs defaulting, validation, admission (quotas, webhooks, port allocation) and answers
as it would for the real write, and persists nothing. What a dry run "created" is remembered, so later
reads and writes of the same preview see it; a write the server cannot judge yet (into a namespace or
a custom resource type that only this preview creates) is answered locally and reported as unchecked.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from restoreflow.cluster import ApiError, Cluster, ResourceInfo
from restoreflow.restore.patches import apply_merge_patch

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CRDS = "customresourcedefinitions.apiextensions.k8s.io"

Key = tuple[str, str, str]  # group-resource, namespace ("" = cluster), name


class DryRunCluster:
    """Reads from `cluster`; writes with dryRun=All. `on_write(verb, info, name, namespace, body)`
    sees every write, `on_unchecked(reason)` every write answered locally, `on_read(info, name,
    namespace, obj)` every object read from the server."""

    def __init__(
        self,
        cluster: Cluster,
        on_write: Callable[[str, ResourceInfo, str, str, Any], None] = lambda *a: None,
        on_unchecked: Callable[[str], None] = lambda reason: None,
        on_read: Callable[[ResourceInfo, str, str, dict[str, Any]], None] = lambda *a: None,
    ) -> None:
        self._cluster = cluster
        self._on_write = on_write
        self._on_unchecked = on_unchecked
        self._on_read = on_read
        self._created: dict[Key, dict[str, Any]] = {}
        self._new_types: set[str] = set()  # group-resources served by CRDs this preview creates
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # discovery, info, list, version, host, close ...
        return getattr(self._cluster, name)

    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        if method in WRITES:
            query = {**(query or {}), "dryRun": "All"}
        return self._cluster.request(method, path, query=query, **kw)

    # -- reads see what the preview made ---------------------------------------------------------
    def read(self, resource: str | ResourceInfo, name: str, namespace: str | None = None) -> dict[str, Any]:
        found = self._made(resource, name, namespace)
        if found is not None:
            return found
        info = self._cluster.info(resource)
        found = self._cluster.read(info, name, namespace)
        self._on_read(info, name, namespace or "", found)
        return found

    def get(
        self, resource: str | ResourceInfo, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        try:
            return self.read(resource, name, namespace)
        except ApiError as error:
            if error.not_found:
                return None
            raise

    def _made(self, resource: str | ResourceInfo, name: str, namespace: str | None) -> dict[str, Any] | None:
        group_resource = resource.group_resource if isinstance(resource, ResourceInfo) else resource
        with self._lock:
            found = self._created.get((group_resource, namespace or "", name))
        return copy.deepcopy(found) if found is not None else None

    # -- writes ---------------------------------------------------------------------------------
    def create(self, resource: str | ResourceInfo, obj: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        info = self._cluster.info(resource).at_version(str(obj.get("apiVersion", "")))
        metadata = obj.get("metadata") or {}
        namespace, name = metadata.get("namespace") or "", metadata.get("name", "")
        self._on_write("create", info, name, namespace, obj)
        try:
            created = self._cluster.create(info, obj, dry_run=True)
        except ApiError as error:
            reason = self._unjudgeable(info, namespace, error)
            if reason is None:
                raise
            self._on_unchecked(reason)
            created = copy.deepcopy(dict(obj))
        with self._lock:
            self._created[(info.group_resource, namespace, created["metadata"].get("name", name))] = created
            if info.group_resource == CRDS:
                self._new_types.add(_crd_resource(created))
        return created

    def _unjudgeable(self, info: ResourceInfo, namespace: str, error: ApiError) -> str | None:
        """Why the server could not judge this create, when only this preview's own writes explain it."""
        if not error.not_found:
            return None
        with self._lock:
            if namespace and ("namespaces", "", namespace) in self._created:
                return f"not checked by the API server: the namespace {namespace} does not exist yet"
            if info.group_resource in self._new_types:
                return f"not checked by the API server: {info.group_resource} is not served yet"
        return None

    def patch(
        self,
        resource: str | ResourceInfo,
        name: str,
        patch: Mapping[str, Any],
        namespace: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        info = self._cluster.info(resource)
        self._on_write("patch", info, name, namespace or "", patch)
        key = (info.group_resource, namespace or "", name)
        with self._lock:
            made = self._created.get(key)
            if made is not None:
                self._created[key] = made = apply_merge_patch(made, patch)
                return copy.deepcopy(made)
        return self._cluster.patch(info, name, patch, namespace, dry_run=True)

    def update_status(self, resource: str | ResourceInfo, obj: Mapping[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        info = self._cluster.info(resource).at_version(str(obj.get("apiVersion", "")))
        if self._made(info, meta.get("name", ""), meta.get("namespace")) is not None:
            return dict(obj)
        path = info.path(meta.get("namespace"), meta.get("name"), "status")
        answer: dict[str, Any] = self.request("PUT", path, body=obj)
        return answer

    def delete(self, resource: str | ResourceInfo, name: str, namespace: str | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("DELETE", self._cluster.info(resource).path(namespace, name))
        return answer


def _crd_resource(crd: Mapping[str, Any]) -> str:
    spec = crd.get("spec") or {}
    return f"{(spec.get('names') or {}).get('plural', '')}.{spec.get('group', '')}"
