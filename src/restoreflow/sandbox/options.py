"""What a sandbox starts with and how fast its controllers act."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SandboxOptions:
    """Start-up state and controller delays (seconds). Every field can be changed at run time."""

    crd_establish_delay: float = 0.05  # CRD -> NamesAccepted + Established, resources served
    namespace_setup_delay: float = 0.02  # new namespace -> `default` ServiceAccount, kube-root-ca.crt
    namespace_termination_delay: float = 0.2  # Terminating namespace -> contents deleted, then itself
    pod_running_delay: float = 0.05  # Pending -> scheduled and Running (containers ready)
    workload_ready_delay: float = 0.1  # Deployments, StatefulSets, ... -> ready replicas
    pvc_bind_delay: float = 0.05  # PVC -> bound (pre-bound or dynamically provisioned)
    pvr_progress_delay: float = 0.1  # each PodVolumeRestore step: New -> InProgress -> Completed
    data_download_delay: float = 0.1  # each DataDownload step: Accepted -> Prepared -> InProgress -> ...
    finalizer_delay: float = 0.05  # built-in protection finalizers removed after deletion
    node_port_range: str = "30000-32767"
    storage_classes: list[dict[str, Any]] | None = None  # None: one default StorageClass "standard"
    nodes: list[str] = field(default_factory=lambda: ["node-1"])
    velero_crds: bool = False  # serve velero.io (and create the `velero` namespace) from the start
    snapshot_crds: bool = False  # serve snapshot.storage.k8s.io from the start
    state: list[dict[str, Any]] = field(default_factory=list)  # objects present at start
    faults: list[str] = field(default_factory=list)  # fault rules active from the start
    seed: int = 0  # seeds fault shares and generated names

    def updated(self, **changes: Any) -> SandboxOptions:
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown sandbox option(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def port_range(self) -> tuple[int, int]:
        low, _, high = self.node_port_range.partition("-")
        return int(low), int(high)
