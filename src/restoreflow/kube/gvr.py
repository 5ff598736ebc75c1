"""API groups, versions and resources in the string forms Kubernetes writes them.

`apps/v1` is group `apps`, version `v1`; `v1` is the core group. A group-resource is written
`deployments.apps` (`pods` in the core group), as `schema.GroupResource.String()` writes it.
"""

from __future__ import annotations


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
