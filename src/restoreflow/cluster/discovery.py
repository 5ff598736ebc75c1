"""Discovery: what the cluster serves, and kubectl's rules for naming it.

`resolve("po")`, `resolve("deployments.apps")`, `resolve("widgets.example.com")` give the served
resource (group, version, plural, kind, scope), using the short names, singular and plural names the
API server advertises, the way Velero resolves names through client-go's shortcut expander and
RESTMapper. Groups are searched in the order the server lists them (core first), each at its
preferred version first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from restoreflow.kube import gvr


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    resource: str  # the plural, e.g. "deployments"
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = field(default=(), compare=False)

    @property
    def group_resource(self) -> str:
        """Velero's `schema.GroupResource.String()`: "pods", "deployments.apps"."""
        return gvr.group_resource(self.resource, self.group)

    @property
    def api_version(self) -> str:
        return gvr.api_version(self.group, self.version)

    def at_version(self, api_version: str) -> ResourceInfo:
        """The same resource at the version an object names (`apps/v1` -> version `v1`)."""
        version = gvr.split_api_version(api_version)[1]
        return self if version == self.version else replace(self, version=version)

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str = "") -> str:
        """The REST path of the collection, or of one object when `name` is given."""
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        scope = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        tail = f"/{name}" if name else ""
        sub = f"/{subresource}" if subresource else ""
        return f"{root}{scope}/{self.resource}{tail}{sub}"


@dataclass(frozen=True)
class GroupVersions:
    preferred: str
    versions: tuple[str, ...]  # as the server lists them (preferred first in practice)


class Discovery:
    """A snapshot of the server's resources; `refresh()` re-reads it (after CRDs are restored)."""

    def __init__(self, fetch_json: Callable[[str], Any]):
        self._fetch = fetch_json
        self._lock = threading.Lock()
        self._resources: list[ResourceInfo] = []
        self._groups: dict[str, GroupVersions] = {}
        self._loaded = False
        self.failed_groups: dict[str, str] = {}  # group version path -> why it could not be discovered

    def refresh(self) -> None:
        resources, groups = self._read_all()
        with self._lock:
            self._resources, self._groups, self._loaded = resources, groups, True

    def _ensure(self) -> None:
        if not self._loaded:
            self.refresh()

    def _read_all(self) -> tuple[list[ResourceInfo], dict[str, GroupVersions]]:
        core = self._fetch("/api").get("versions") or ["v1"]
        groups: dict[str, GroupVersions] = {"": GroupVersions(core[0], tuple(core))}
        paths: list[tuple[str, str, str]] = [("", v, f"/api/{v}") for v in core]
        for g in self._fetch("/apis").get("groups") or []:
            versions = tuple(v["version"] for v in g.get("versions") or [])
            preferred = (g.get("preferredVersion") or {}).get("version") or (versions[0] if versions else "")
            groups[g["name"]] = GroupVersions(preferred, versions)
            ordered = [preferred, *(v for v in versions if v != preferred)]
            paths.extend((g["name"], v, f"/apis/{g['name']}/{v}") for v in ordered)
        with ThreadPoolExecutor(max_workers=8) as pool:
            lists = list(pool.map(lambda p: self._fetch_tolerant(p[2]), paths))
        resources: list[ResourceInfo] = []
        for (group, version, _), body in zip(paths, lists, strict=True):
            resources.extend(_resource_infos(group, version, body.get("resources") or []))
        return resources, groups

    def _fetch_tolerant(self, path: str) -> Any:
        """One group version's resources; a group that fails discovery is left out, as client-go does."""
        try:
            return self._fetch(path)
        except Exception as error:
            self.failed_groups[path] = str(error)
            return {}

    @property
    def resources(self) -> list[ResourceInfo]:
        self._ensure()
        return list(self._resources)

    def group_versions(self) -> dict[str, GroupVersions]:
        self._ensure()
        return dict(self._groups)

    def resolve(self, name: str) -> ResourceInfo | None:
        """Resolve a user's resource name to the served resource at its preferred version, or None."""
        self._ensure()
        return resolve_in(self._resources, name)

    def for_kind(self, api_version: str, kind: str) -> ResourceInfo | None:
        """The resource serving `kind` in the object's group (its own version when served)."""
        self._ensure()
        group, version = gvr.split_api_version(api_version)
        matches = [r for r in self._resources if r.group == group and r.kind == kind]
        exact = [r for r in matches if r.version == version]
        return (exact or matches or [None])[0]


def _resource_infos(group: str, version: str, entries: Iterable[dict[str, Any]]) -> list[ResourceInfo]:
    return [
        ResourceInfo(
            group=group,
            version=version,
            resource=e["name"],
            kind=e.get("kind", ""),
            namespaced=bool(e.get("namespaced")),
            singular=(e.get("singularName") or e.get("kind", "")).lower(),
            short_names=tuple(e.get("shortNames") or ()),
            verbs=tuple(e.get("verbs") or ()),
        )
        for e in entries
        if "/" not in e["name"]
    ]


def resolve_in(resources: Iterable[ResourceInfo], name: str) -> ResourceInfo | None:
    """kubectl's shortcut expansion, then a plural/singular match within the (optional) group."""
    resource, group = gvr.parse_group_resource(name.strip().lower())
    candidates = [r for r in resources if not group or r.group == group]
    for info in candidates:
        if resource in info.short_names:
            return info
    for info in candidates:
        if resource in (info.resource, info.singular):
            return info
    return None
