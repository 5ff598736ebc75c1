"""ResourceQuota admission for object counts, as kube-apiserver's quota admission plugin answers a create.

Modelled: the object-count names of a quota's `spec.hard` (`count/<resource>[.<group>]` and the
standard `pods`, `services`, `configmaps`, `secrets`, `persistentvolumeclaims`,
`replicationcontrollers`, `resourcequotas`) for quotas without scopes. Compute resources (cpu,
memory, storage) are not. Usage is counted from the store, as the quota controller would record it in
`status.used`; a create that would exceed a hard limit is refused with the API server's message,
also in a dry run (admission runs, nothing is persisted).
"""

from __future__ import annotations

from typing import Any

from restoreflow.cluster.errors import ApiError
from restoreflow.sandbox import status

STANDARD = frozenset(
    {
        "pods",
        "services",
        "configmaps",
        "secrets",
        "persistentvolumeclaims",
        "replicationcontrollers",
        "resourcequotas",
    }
)
TERMINAL_POD_PHASES = ("Succeeded", "Failed")


def counted_names(group_resource: str) -> set[str]:
    """The quota resource names a create of `group_resource` is charged to."""
    names = {f"count/{group_resource}"}
    if group_resource in STANDARD:
        names.add(group_resource)
    return names


def admit_create(cluster: Any, rtype: Any, obj: dict[str, Any]) -> ApiError | None:
    """Forbidden when a quota of the object's namespace has no room for one more of its kind."""
    namespace = (obj.get("metadata") or {}).get("namespace")
    if not namespace or not rtype.namespaced:
        return None
    quota_type = cluster.catalog.by_group_resource("resourcequotas")
    quotas = sorted(cluster.store.items(quota_type, namespace), key=lambda q: q["metadata"]["name"])
    names = counted_names(rtype.group_resource)
    for quota in quotas:
        spec = quota.get("spec") or {}
        if spec.get("scopes") or spec.get("scopeSelector"):
            continue
        hard = {k: v for k, v in (spec.get("hard") or {}).items() if k in names}
        if not hard:
            continue
        used = _usage(cluster, rtype, namespace)
        exceeded = {k: v for k, v in hard.items() if used + 1 > _count(v)}
        if exceeded:
            why = "exceeded quota: {}, requested: {}, used: {}, limited: {}".format(
                quota["metadata"]["name"],
                _pretty({k: "1" for k in exceeded}),
                _pretty({k: str(used) for k in exceeded}),
                _pretty({k: str(v) for k, v in exceeded.items()}),
            )
            gr = (rtype.group, rtype.resource)
            return status.forbidden(gr, obj["metadata"].get("name", ""), why)
    return None


def _usage(cluster: Any, rtype: Any, namespace: str) -> int:
    objects = cluster.store.items(rtype, namespace)
    if rtype.group_resource == "pods":
        objects = [p for p in objects if (p.get("status") or {}).get("phase") not in TERMINAL_POD_PHASES]
    return len(objects)


def _count(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _pretty(values: dict[str, str]) -> str:
    """Kubernetes' quota prettyPrint: sorted name=value pairs joined by commas."""
    return ",".join(f"{k}={values[k]}" for k in sorted(values))
