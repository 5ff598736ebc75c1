"""Discovery documents (/version, /api, /apis, /apis/G, /apis/G/V) built from the served catalog."""

from __future__ import annotations

from typing import Any

from restoreflow.sandbox.catalog import SUBRESOURCE_VERBS, Catalog, ResourceType

VERSION = {
    "major": "1",
    "minor": "33",
    "emulationMajor": "1",
    "emulationMinor": "33",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "32",
    "gitVersion": "v1.33.0",
    "gitCommit": "60a317eadfcb839692a68eab88b2096f4d708f4f",
    "gitTreeState": "clean",
    "buildDate": "2025-04-23T13:00:00Z",
    "goVersion": "go1.24.2",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# subresource -> (kind, group, version) of what it serves, when not the parent's kind
_SUBRESOURCE_KINDS = {
    "exec": ("PodExecOptions", "", ""),
    "scale": ("Scale", "autoscaling", "v1"),
    "token": ("TokenRequest", "authentication.k8s.io", "v1"),
    "eviction": ("Eviction", "policy", "v1"),
    "binding": ("Binding", "", ""),
    "log": ("Pod", "", ""),
}


def core_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def group_list(catalog: Catalog) -> dict[str, Any]:
    groups = [_group(name, versions) for name, versions in catalog.groups().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(catalog: Catalog, name: str) -> dict[str, Any] | None:
    versions = catalog.groups().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def resource_list(catalog: Catalog, group_name: str, version: str) -> dict[str, Any] | None:
    types = sorted(catalog.in_group_version(group_name, version), key=lambda t: t.resource)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rtype in types:
        resources.append(_resource(rtype))
        resources += [_subresource(rtype, sub) for sub in rtype.subresources]
    group_version = f"{group_name}/{version}" if group_name else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def _resource(rtype: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": rtype.resource,
        "singularName": rtype.singular,
        "namespaced": rtype.namespaced,
        "kind": rtype.kind,
        "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    return entry


def _subresource(rtype: ResourceType, sub: str) -> dict[str, Any]:
    kind, group, version = _SUBRESOURCE_KINDS.get(sub, (rtype.kind, "", ""))
    entry: dict[str, Any] = {
        "name": f"{rtype.resource}/{sub}",
        "singularName": "",
        "namespaced": rtype.namespaced,
    }
    if group:
        entry |= {"group": group, "version": version}
    entry |= {"kind": kind, "verbs": list(SUBRESOURCE_VERBS.get(sub, ("get",)))}
    return entry
