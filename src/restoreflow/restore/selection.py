"""Prepare: which items of the backup are restored, at which API version, in which order.

Velero's rules: resources resolved through discovery (unresolvable names kept verbatim), namespace
filters on the SOURCE namespace, `includeClusterResources` tri-state, label selectors, the
non-restorable and must-have resources, the priority order with CRDs in a first pass, and the
API-group-version choice when the backup holds several versions of a resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from restoreflow.cluster.discovery import GroupVersions, ResourceInfo, resolve_in
from restoreflow.kube.gvr import sort_versions
from restoreflow.kube.selectors import Selector, from_label_selector
from restoreflow.plan.matching import IncludesExcludes
from restoreflow.plan.model import NON_RESTORABLE_RESOURCES, RestoreSpec

CRDS = "customresourcedefinitions.apiextensions.k8s.io"
NAMESPACES = "namespaces"
MUST_HAVE = frozenset({"datauploads.velero.io", "volumesnapshotcontents.snapshot.storage.k8s.io"})


@dataclass(frozen=True)
class ItemRef:
    """An item of the archive: its resource folder, SOURCE namespace ("" = cluster) and name."""

    resource_dir: str
    namespace: str
    name: str
    version_dir: str | None = None  # read from resources/<dir>/<version_dir>/... instead of the classic path


@dataclass
class ResourceGroup:
    """The items of one resource, restored together (one Prefect task); groups run in order."""

    resource: str  # the group-resource, "pods", "deployments.apps"
    items: list[ItemRef] = field(default_factory=list)
    version: str | None = None  # the API version chosen when the backup holds several
    served: bool = True  # False: the target (as known before the restore) does not serve it

    def __str__(self) -> str:
        count = len(self.items)
        return f"restore {self.resource}: {count:,} item{'' if count == 1 else 's'}"

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Filters:
    """The restore's selection, built once per restore."""

    resources: IncludesExcludes
    namespaces: IncludesExcludes
    include_cluster_resources: bool | None
    selector: Selector
    or_selectors: tuple[Selector, ...]
    restore_status: IncludesExcludes | None

    @classmethod
    def from_spec(cls, spec: RestoreSpec, canonical: Callable[[str], str]) -> Filters:
        excluded = list(spec.excluded_resources)
        excluded += [r for r in NON_RESTORABLE_RESOURCES if r not in excluded]
        status = spec.restore_status
        return cls(
            resources=resolved(spec.included_resources, excluded, canonical),
            namespaces=IncludesExcludes.of(spec.included_namespaces, spec.excluded_namespaces),
            include_cluster_resources=spec.include_cluster_resources,
            selector=from_label_selector(spec.label_selector),
            or_selectors=tuple(from_label_selector(s) for s in spec.or_label_selectors or ()),
            restore_status=(
                resolved(status.included_resources, status.excluded_resources, canonical) if status else None
            ),
        )

    def include_resource(self, group_resource: str) -> bool:
        return group_resource in MUST_HAVE or _cached(self.resources, group_resource)

    def include_namespace(self, group_resource: str, source_namespace: str) -> bool:
        return group_resource in MUST_HAVE or _cached(self.namespaces, source_namespace)

    def include_cluster_scoped_listing(self) -> bool:
        """Cluster-scoped items of the backup listing: "auto" (None) only when all namespaces are included."""
        if self.include_cluster_resources is None:
            return self.namespaces.include_everything()
        return self.include_cluster_resources

    def labels_match(self, group_resource: str, labels: Mapping[str, str] | None) -> bool:
        if group_resource in MUST_HAVE:
            return True
        if not self.selector.matches(labels):
            return False
        return not self.or_selectors or any(s.matches(labels) for s in self.or_selectors)

    @property
    def uses_labels(self) -> bool:
        return not self.selector.empty() or bool(self.or_selectors)

    def restore_status_of(self, group_resource: str) -> bool:
        return self.restore_status is not None and self.restore_status.should_include(group_resource)


@lru_cache(maxsize=8192)
def _cached(filter_: IncludesExcludes, name: str) -> bool:
    """Glob matching once per (filter, name): every item of a resource or namespace asks the same."""
    return filter_.should_include(name)


def resolved(
    includes: Iterable[str], excludes: Iterable[str], canonical: Callable[[str], str]
) -> IncludesExcludes:
    """Velero's GetResourceIncludesExcludes: names resolved through discovery, `*` kept, unknown verbatim."""
    return IncludesExcludes.of(
        [i if i == "*" else canonical(i) for i in includes],
        [e if e == "*" else canonical(e) for e in excludes],
    )


class Resolver:
    """Resolve names through the target's discovery, then through the CRDs the backup will restore."""

    def __init__(self, served: list[ResourceInfo], backup_crds: Iterable[Mapping[str, Any]] = ()):
        self.served = served
        self.pending = [info for crd in backup_crds for info in _crd_infos(crd)]

    def info(self, name: str) -> ResourceInfo | None:
        return resolve_in(self.served, name) or resolve_in(self.pending, name)

    def canonical(self, name: str) -> str:
        """The `resource.group` string, or the name verbatim when nothing resolves it."""
        info = self.info(name)
        return info.group_resource if info else name


def _crd_infos(crd: Mapping[str, Any]) -> list[ResourceInfo]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    if not names.get("plural") or not spec.get("group"):
        return []
    versions = [v.get("name") for v in spec.get("versions") or [] if v.get("served", True)] or [
        spec.get("version", "v1")
    ]
    return [
        ResourceInfo(
            group=spec["group"],
            version=str(versions[0]),
            resource=names["plural"],
            kind=names.get("kind", ""),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            singular=(names.get("singular") or names.get("kind", "")).lower(),
            short_names=tuple(names.get("shortNames") or ()),
        )
    ]


def ordered_resources(high: Iterable[str], low: Iterable[str], backup_resources: Iterable[str]) -> list[str]:
    """Velero's getOrderedResources: high, then the rest of the backup alphabetically, then low."""
    high, low = list(high), list(low)
    listed = set(high) | set(low)
    return high + sorted(r for r in backup_resources if r not in listed) + low


# -- API group versions ----------------------------------------------------------------------------
def choose_version(source: GroupVersions, target: GroupVersions | None, user: Sequence[str] = ()) -> str:
    """Velero's rules: the version to restore a resource at, given the target's versions of its group.

    P0 the first of the user's versions that both hold, P1 the target's preferred version,
    P2 the backup's preferred one, P3 the first common version below the top of both priority-sorted
    lists (Velero skips each list's first, which is not always the preferred one); else the backup's
    preferred version.
    A target that does not know the group gets the backup's preferred version, whatever the user wants.
    """
    if target is None:
        return source.preferred
    for version in user:
        if version in target.versions and version in source.versions:
            return version
    if target.preferred in source.versions:
        return target.preferred
    if source.preferred in target.versions:
        return source.preferred
    source_others = set(sort_versions(source.versions)[1:])
    for version in sort_versions(target.versions)[1:]:
        if version in source_others:
            return version
    return source.preferred


def source_versions(archive: Any) -> dict[str, GroupVersions]:
    """resource dir -> the versions the backup holds (from its version folders)."""
    out: dict[str, GroupVersions] = {}
    for resource_dir, versions in (archive.group_versions() or {}).items():
        preferred = getattr(versions, "preferred", None) or getattr(versions, "preferred_version", None)
        listed = tuple(getattr(versions, "versions", None) or getattr(versions, "all", None) or ())
        if preferred:
            out[resource_dir] = GroupVersions(preferred, tuple(sort_versions(set(listed) | {preferred})))
    return out
