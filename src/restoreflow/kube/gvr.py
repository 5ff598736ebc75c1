"""API groups, versions and resources in the string forms Kubernetes writes them.

`apps/v1` is group `apps`, version `v1`; `v1` is the core group. A group-resource is written
`deployments.apps` (`pods` in the core group), as `schema.GroupResource.String()` writes it.
Versions sort by Kubernetes' version priority.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def split_api_version(api_version: str) -> tuple[str, str]:
    """(group, version): ("apps", "v1") from "apps/v1"; ("", "v1") from "v1"."""
    group, _, version = api_version.rpartition("/")
    return group, version


def api_version(group: str, version: str) -> str:
    """The `apiVersion` of objects in `group` at `version` ("v1" in the core group)."""
    return f"{group}/{version}" if group else version


def parse_group_resource(name: str) -> tuple[str, str]:
    """Kubernetes' ParseGroupResource: "deployments.apps" -> ("deployments", "apps")."""
    resource, _, group = name.partition(".")
    return resource, group


def group_resource(resource: str, group: str) -> str:
    """`schema.GroupResource.String()`: "pods", "deployments.apps"."""
    return f"{resource}.{group}" if group else resource


_KUBE_VERSION = re.compile(r"v(\d+)(?:(alpha|beta)(\d+))?")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key of Kubernetes' version priority: GA, then beta, then alpha (higher numbers first),
    then other strings by name."""
    match = _KUBE_VERSION.fullmatch(version)
    if not match:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), "")


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Versions most preferred first: v2, v1, v1beta2, v1beta1, v1alpha1, then others by name."""
    return sorted(versions, key=version_priority)
