"""The typed, immutable restore plan: what the rest of restoreflow reads.

Built by `restoreflow.plan.load_plan` from a validated YAML document with every default filled
in. Field names are the YAML names in snake_case; YAML names are Velero's where Velero has one.
Durations are plain seconds (floats). Mappings are read-only dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

KIND = "RestorePlan"

# Velero's current default restore priorities (pkg/cmd/server/config/config.go).
DEFAULT_HIGH_PRIORITIES: tuple[str, ...] = (
    "customresourcedefinitions",
    "namespaces",
    "storageclasses",
    "volumesnapshotclass.snapshot.storage.k8s.io",
    "volumesnapshotcontents.snapshot.storage.k8s.io",
    "volumesnapshots.snapshot.storage.k8s.io",
    "datauploads.velero.io",
    "persistentvolumes",
    "persistentvolumeclaims",
    "clusterroles",
    "roles",
    "serviceaccounts",
    "clusterrolebindings",
    "rolebindings",
    "secrets",
    "configmaps",
    "limitranges",
    "priorityclasses",
    "pods",
    "replicasets.apps",
    "clusterclasses.cluster.x-k8s.io",
    "endpoints",
    "services",
)
DEFAULT_LOW_PRIORITIES: tuple[str, ...] = (
    "clusterbootstraps.run.tanzu.vmware.com",
    "clusters.cluster.x-k8s.io",
    "clusterresourcesets.addons.cluster.x-k8s.io",
    "apps.kappctrl.k14s.io",
    "packageinstalls.packaging.carvel.dev",
)

# Resources Velero never restores; always appended to the excluded resources.
NON_RESTORABLE_RESOURCES: tuple[str, ...] = (
    "nodes",
    "events",
    "events.events.k8s.io",
    "backups.velero.io",
    "restores.velero.io",
    "resticrepositories.velero.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
    "backuprepositories.velero.io",
)


def frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only view of a dict (the plan is immutable)."""
    return MappingProxyType(dict(data or {}))


def no_map() -> Any:
    """The default of a mapping field: a fresh empty read-only mapping."""
    return field(default_factory=lambda: frozen_map(None))


@dataclass(frozen=True)
class Source:
    """Where the backups live and which one to restore (exactly one of backup_name/schedule_name)."""

    storage_location: str  # fsspec URL of the BSL root (bucket + prefix), e.g. s3://bucket/prefix
    options: Mapping[str, Any] = no_map()  # non-secret fsspec storage options
    backup_name: str | None = None
    schedule_name: str | None = None  # latest Completed backup of this schedule


@dataclass(frozen=True)
class Target:
    """Which cluster: kubeconfig and context; None means KUBECONFIG / in-cluster, like kubectl."""

    kubeconfig: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class IncludesExcludes:
    included_resources: tuple[str, ...] = ()
    excluded_resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExecHook:
    """A post-restore exec hook (Velero's ExecRestoreHook); durations in seconds."""

    command: tuple[str, ...]
    container: str | None = None  # default: the pod's first container
    on_error: Literal["Continue", "Fail"] = "Continue"
    exec_timeout: float = 30.0
    wait_timeout: float | None = None  # None: the plan's timeouts.hook_wait
    wait_for_ready: bool = False


@dataclass(frozen=True)
class InitHook:
    """Init containers inserted into restored pods (Velero's InitRestoreHook)."""

    init_containers: tuple[Mapping[str, Any], ...]
    timeout: float | None = None


@dataclass(frozen=True)
class PostHook:
    exec: ExecHook | None = None
    init: InitHook | None = None


@dataclass(frozen=True)
class ResourceHookSpec:
    """One `hooks.resources[]` entry: a pod selector and its hooks."""

    name: str
    included_namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()
    included_resources: tuple[str, ...] = ()  # accepted for Velero parity; hooks apply to pods only
    excluded_resources: tuple[str, ...] = ()
    label_selector: Mapping[str, Any] | None = None
    post_hooks: tuple[PostHook, ...] = ()


@dataclass(frozen=True)
class UploaderConfig:
    write_sparse_files: bool | None = None
    parallel_files_download: int | None = None


@dataclass(frozen=True)
class Priorities:
    high: tuple[str, ...] = DEFAULT_HIGH_PRIORITIES
    low: tuple[str, ...] = DEFAULT_LOW_PRIORITIES


@dataclass(frozen=True)
class Transforms:
    """What Velero keeps in plugin ConfigMaps, declared in the plan instead."""

    storage_class_mapping: Mapping[str, str] = no_map()  # old storage class -> new
    image_name_mapping: tuple[str, ...] = ()  # Velero's "old,new" rows, applied in this order
    node_mapping: Mapping[str, str] = no_map()  # PVC selected-node: old node -> new node
    resource_modifiers: Mapping[str, Any] | None = None  # {version: v1, resourceModifierRules: [...]}
    honor_velero_config_maps: bool = False  # also read Velero's plugin ConfigMaps in the target
    velero_namespace: str = "velero"  # where those ConfigMaps (and PodVolumeRestores) live


@dataclass(frozen=True)
class Timeouts:
    """Every wait is bounded; seconds."""

    fs_backup_restore: float = 4 * 3600.0
    crd_available: float = 60.0
    terminating_resource: float = 600.0
    exec_hook: float = 30.0  # default execTimeout of exec hooks
    hook_wait: float = 600.0  # default waitTimeout of exec hooks (Velero waits forever)
    resource: float = 600.0  # additional items ready, PVC bound, and other resource waits


@dataclass(frozen=True)
class ApiRetries:
    """Retries of one API call on 429, 5xx, timeouts and dropped connections."""

    attempts: int = 6
    initial_backoff: float = 0.2
    max_backoff: float = 30.0
    request_timeout: float = 60.0  # how long one attempt waits for its answer


@dataclass(frozen=True)
class PhaseRetries:
    """Retries of one restore phase (a Prefect task) after it failed."""

    attempts: int = 2
    delay: float = 5.0


@dataclass(frozen=True)
class Retries:
    api: ApiRetries = field(default_factory=ApiRetries)
    phases: PhaseRetries = field(default_factory=PhaseRetries)


@dataclass(frozen=True)
class Concurrency:
    workers: int = 32
    qps: float = 100.0
    burst: int = 100


@dataclass(frozen=True)
class Verify:
    """Checks after the restore: the restored objects hold what was written; workloads come up."""

    workloads: bool = True  # also wait for readiness
    timeout: float = 300.0  # seconds the workloads may take


@dataclass(frozen=True)
class RestoreSpec:
    """Velero's Restore spec, field for field, plus restoreflow's groups."""

    source: Source
    target: Target = field(default_factory=Target)
    included_namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()
    included_resources: tuple[str, ...] = ()
    excluded_resources: tuple[str, ...] = ()
    include_cluster_resources: bool | None = None  # None: auto (only when all namespaces are included)
    label_selector: Mapping[str, Any] | None = None  # metav1.LabelSelector as plain data
    or_label_selectors: tuple[Mapping[str, Any], ...] | None = None
    namespace_mapping: Mapping[str, str] = no_map()
    restore_pvs: bool = True
    preserve_node_ports: bool = False
    existing_resource_policy: Literal["none", "update"] = "none"
    restore_status: IncludesExcludes | None = None  # None: no status is restored
    resource_modifier: Mapping[str, Any] | None = None  # {kind: ConfigMap, name}: rules in the target
    hooks: tuple[ResourceHookSpec, ...] = ()
    item_operation_timeout: float = 4 * 3600.0
    uploader_config: UploaderConfig = field(default_factory=UploaderConfig)
    priorities: Priorities = field(default_factory=Priorities)
    # resource.group -> API versions, most wanted first: Velero's user priorities (its P0)
    api_group_version_priorities: Mapping[str, tuple[str, ...]] = no_map()
    transforms: Transforms = field(default_factory=Transforms)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retries: Retries = field(default_factory=Retries)
    concurrency: Concurrency = field(default_factory=Concurrency)
    verify: Verify | None = None  # None: no verification

    def target_namespace(self, source_namespace: str) -> str:
        """The namespace an item of `source_namespace` is restored into ("" for cluster-scoped items)."""
        if not source_namespace:
            return ""
        return self.namespace_mapping.get(source_namespace, source_namespace)

    def remaps(self, namespace: str) -> bool:
        """Whether namespaceMapping names `namespace` (Velero renames claimed PVs only then)."""
        return namespace in self.namespace_mapping


@dataclass(frozen=True)
class RestorePlan:
    name: str
    spec: RestoreSpec
    source_file: str | None = None  # where it was loaded from, for messages
    document: Mapping[str, Any] = no_map()  # the normalized plan document with defaults (for records)
