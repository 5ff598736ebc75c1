"""Velero's user-defined API group version priorities, from the plan and from Velero's ConfigMap.

Velero reads ConfigMap `enableapigroupversions` in its namespace, key
`restoreResourcesVersionPriority`: one `resource.group=version,version` line per resource. With
`transforms.honorVeleroConfigMaps` restoreflow reads it too, with Velero's parsing rules; the plan's
`apiGroupVersionPriorities` wins for a resource both name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from restoreflow.actions.base import ClusterReader
from restoreflow.plan.model import RestoreSpec, Transforms

CONFIG_MAP = "enableapigroupversions"
DATA_KEY = "restoreResourcesVersionPriority"
READ_ERROR = (
    "choosing API version to restore: retrieving enableapigroupversion config map: "
    "getting enableapigroupversions config map from velero namespace: {error}"
)

VersionPriorities = dict[str, tuple[str, ...]]


def parse_user_priorities(data: str) -> tuple[VersionPriorities, list[str]]:
    """Velero's parseUserPriorities: the priorities, and one warning per line it could not use.

    Spaces are removed and empty lines dropped; a line needs exactly one `=` with text on both
    sides. A later line for the same resource replaces an earlier one, as in Velero's map.
    """
    priorities: VersionPriorities = {}
    warnings: list[str] = []
    for line in data.split("\n"):
        line = line.replace(" ", "")
        if not line:
            continue
        problem = _line_problem(line)
        if problem:
            quoted = json.dumps(line, ensure_ascii=False)  # Go's %q for what a ConfigMap holds
            warnings.append(f"Unable to validate user priority versions {quoted} due to {problem}")
            continue
        resource, versions = line.split("=")
        priorities[resource] = tuple(versions.split(","))
    return priorities, warnings


def _line_problem(line: str) -> str | None:
    """Velero's validateUserPriority, with its messages."""
    if line.count("=") != 1:
        return "line must have one and only one equal sign"
    resource, versions = line.split("=")
    if not resource or not versions:
        return "line must contain at least one character before and after equal sign"
    return None


def config_map_priorities(
    cluster: ClusterReader, transforms: Transforms
) -> tuple[VersionPriorities, list[str]]:
    """The ConfigMap's priorities and warnings; none when the switch is off or there is no ConfigMap.

    A failed read (other than 404) raises the client's error: Velero then restores nothing."""
    if not transforms.honor_velero_config_maps:
        return {}, []
    config_map = cluster.get("configmaps", CONFIG_MAP, transforms.velero_namespace)
    if config_map is None:
        return {}, []
    return parse_user_priorities(str((config_map.get("data") or {}).get(DATA_KEY) or ""))


def user_priorities(spec: RestoreSpec, cluster: ClusterReader) -> tuple[VersionPriorities, list[str]]:
    """The plan's priorities over the ConfigMap's (the plan wins per resource), and the warnings."""
    from_config_map, warnings = config_map_priorities(cluster, spec.transforms)
    plan: Mapping[str, tuple[str, ...]] = spec.api_group_version_priorities
    return {**from_config_map, **plan}, warnings
