"""The resource types the sandbox serves: the built-in ones, plus those its CRDs add.

Discovery documents and request routing both come from this one table, so what a client discovers is
exactly what it can call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from restoreflow.kube import gvr

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = {
    "status": ("get", "patch", "update"),
    "scale": ("get", "patch", "update"),
    "exec": ("create", "get"),
    "log": ("get",),
    "token": ("create",),
    "finalize": ("update",),
    "binding": ("create",),
    "eviction": ("create",),
}

# Types whose DELETE answers with the deleted object rather than a Status (ReturnDeletedObject).
RETURNS_DELETED = frozenset(
    {
        "pods", "persistentvolumeclaims", "persistentvolumes", "podtemplates", "resourcequotas", "services",
        "serviceaccounts", "csidrivers.storage.k8s.io", "csinodes.storage.k8s.io",
        "storageclasses.storage.k8s.io", "volumeattachments.storage.k8s.io",
    }
)  # fmt: skip


# Types whose objects carry metadata.generation (their strategies set it on create, bump it on spec changes).
TRACKS_GENERATION = frozenset(
    {
        "deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps",
        "replicationcontrollers", "podtemplates", "jobs.batch", "cronjobs.batch",
        "horizontalpodautoscalers.autoscaling",
        "networkpolicies.networking.k8s.io", "ingresses.networking.k8s.io", "poddisruptionbudgets.policy",
        "customresourcedefinitions.apiextensions.k8s.io",
        "mutatingwebhookconfigurations.admissionregistration.k8s.io",
        "validatingwebhookconfigurations.admissionregistration.k8s.io",
        "validatingadmissionpolicies.admissionregistration.k8s.io",
        "validatingadmissionpolicybindings.admissionregistration.k8s.io",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ResourceType:
    """One served resource, e.g. group "apps", resource "deployments", kind "Deployment"."""

    group: str
    versions: tuple[str, ...]  # served versions, the preferred (storage) one first
    resource: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    name_rule: str = "subdomain"  # subdomain | label | dns1035 | path | crd
    verbs: tuple[str, ...] = VERBS
    categories: tuple[str, ...] = ()
    custom: bool = False
    singular_name: str = ""

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    @property
    def version(self) -> str:
        return self.versions[0]

    @property
    def group_resource(self) -> str:
        """ "pods", "deployments.apps": the qualified name errors and the inspection API use."""
        return gvr.group_resource(self.resource, self.group)

    def api_version(self, version: str | None = None) -> str:
        return gvr.api_version(self.group, version or self.version)

    @property
    def qualified_kind(self) -> str:
        """ "Deployment.apps": how Invalid errors name the kind (Kubernetes' GroupKind.String())."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def returns_deleted(self) -> bool:
        return not self.custom and self.group_resource in RETURNS_DELETED

    @property
    def tracks_generation(self) -> bool:
        return self.custom or self.group_resource in TRACKS_GENERATION

    def has_status(self) -> bool:
        return "status" in self.subresources


def _t(
    group: str, version: str, resource: str, kind: str, namespaced: bool, *short: str, **kw
) -> ResourceType:
    return ResourceType(group, (version,), resource, kind, namespaced, tuple(short), **kw)


_ST = ("status",)
_ALL = ("all",)

BUILTIN: tuple[ResourceType, ...] = (
    _t("", "v1", "configmaps", "ConfigMap", True, "cm"),
    _t("", "v1", "endpoints", "Endpoints", True, "ep"),
    _t("", "v1", "events", "Event", True, "ev"),
    _t("", "v1", "limitranges", "LimitRange", True, "limits"),
    _t(
        "",
        "v1",
        "namespaces",
        "Namespace",
        False,
        "ns",
        subresources=("status", "finalize"),
        name_rule="label",
        verbs=tuple(v for v in VERBS if v != "deletecollection"),  # kube-apiserver serves none for namespaces
    ),
    _t("", "v1", "nodes", "Node", False, "no", subresources=_ST),
    _t("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "pvc", subresources=_ST),
    _t("", "v1", "persistentvolumes", "PersistentVolume", False, "pv", subresources=_ST),
    _t(
        "",
        "v1",
        "pods",
        "Pod",
        True,
        "po",
        subresources=("status", "exec", "log", "binding", "eviction"),
        categories=_ALL,
    ),
    _t("", "v1", "podtemplates", "PodTemplate", True),
    _t(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        True,
        "rc",
        subresources=("status", "scale"),
        categories=_ALL,
    ),
    _t("", "v1", "resourcequotas", "ResourceQuota", True, "quota", subresources=_ST),
    _t("", "v1", "secrets", "Secret", True),
    _t("", "v1", "serviceaccounts", "ServiceAccount", True, "sa", subresources=("token",)),
    _t("", "v1", "services", "Service", True, "svc", subresources=_ST, name_rule="dns1035", categories=_ALL),
    _t("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    _t("apps", "v1", "daemonsets", "DaemonSet", True, "ds", subresources=_ST, categories=_ALL),
    _t(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        "deploy",
        subresources=("status", "scale"),
        categories=_ALL,
    ),
    _t(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        "rs",
        subresources=("status", "scale"),
        categories=_ALL,
    ),
    _t(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        True,
        "sts",
        subresources=("status", "scale"),
        categories=_ALL,
    ),
    _t("batch", "v1", "cronjobs", "CronJob", True, "cj", subresources=_ST, categories=_ALL),
    _t("batch", "v1", "jobs", "Job", True, subresources=_ST, categories=_ALL),
    ResourceType(
        "autoscaling",
        ("v2", "v1"),
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        ("hpa",),
        subresources=_ST,
        categories=_ALL,
    ),
    _t("coordination.k8s.io", "v1", "leases", "Lease", True),
    _t("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    _t("events.k8s.io", "v1", "events", "Event", True, "ev"),
    _t(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        False,
        name_rule="path",
    ),
    _t("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, name_rule="path"),
    _t("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, name_rule="path"),
    _t("rbac.authorization.k8s.io", "v1", "roles", "Role", True, name_rule="path"),
    _t("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _t("storage.k8s.io", "v1", "csinodes", "CSINode", False),
    _t("storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", True),
    _t("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, "sc"),
    _t("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", False, subresources=_ST),
    _t("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    _t("networking.k8s.io", "v1", "ingresses", "Ingress", True, "ing", subresources=_ST),
    _t("networking.k8s.io", "v1", "ipaddresses", "IPAddress", False, "ip"),
    _t("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, "netpol"),
    _t("networking.k8s.io", "v1", "servicecidrs", "ServiceCIDR", False, subresources=_ST),
    _t("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", False),
    _t("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, "pdb", subresources=_ST),
    _t("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, "pc"),
    _t(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
    ),
    _t(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
    ),
    _t(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        False,
        subresources=_ST,
    ),
    _t(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        False,
    ),
    _t("apiregistration.k8s.io", "v1", "apiservices", "APIService", False, subresources=_ST),
    _t(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        "crd",
        "crds",
        subresources=_ST,
        name_rule="crd",
    ),
)


@dataclass
class Catalog:
    """The served types, indexed by (group, resource); CRDs add and remove theirs at run time."""

    types: dict[tuple[str, str], ResourceType] = field(default_factory=dict)

    @classmethod
    def builtin(cls) -> Catalog:
        return cls({(t.group, t.resource): t for t in BUILTIN})

    def add(self, rtype: ResourceType) -> None:
        self.types[(rtype.group, rtype.resource)] = rtype

    def remove(self, group: str, resource: str) -> None:
        self.types.pop((group, resource), None)

    def lookup(self, group: str, version: str, resource: str) -> ResourceType | None:
        rtype = self.types.get((group, resource))
        return rtype if rtype and version in rtype.versions else None

    def by_group_resource(self, group_resource: str) -> ResourceType | None:
        """Resolve "pods", "deployments.apps", "widgets.example.com"."""
        resource, group = gvr.parse_group_resource(group_resource)
        return self.types.get((group, resource))

    def groups(self) -> dict[str, list[str]]:
        """Group -> served versions, preferred first, in a stable order (core group is "")."""
        found: dict[str, list[str]] = {}
        for rtype in self.types.values():
            versions = found.setdefault(rtype.group, [])
            for v in rtype.versions:
                if v not in versions:
                    versions.append(v)
        return found

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for t in self.types.values() if t.group == group and version in t.versions]


@dataclass(frozen=True)
class Target:
    """What a resource request addresses."""

    rtype: ResourceType
    version: str
    namespace: str  # "" for cluster-scoped objects, or a list across namespaces
    name: str = ""
    subresource: str = ""
