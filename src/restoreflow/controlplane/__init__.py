"""A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
a node simulator) on loopback, built from Kubernetes' own Go modules or taken from KUBEBUILDER_ASSETS:
the truth the sandbox is checked against, and a restore target for tests, benchmarks and the demo."""

from restoreflow.controlplane.binaries import KUBERNETES_VERSION, BinariesError, find_binaries
from restoreflow.controlplane.plane import (
    ControlPlane,
    ControlPlaneError,
    PlaneState,
    default_state_dir,
    running_control_plane,
)

__all__ = [
    "KUBERNETES_VERSION",
    "BinariesError",
    "ControlPlane",
    "ControlPlaneError",
    "PlaneState",
    "default_state_dir",
    "find_binaries",
    "running_control_plane",
]
