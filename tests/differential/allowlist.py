"""Where the sandbox may answer differently from kube-apiserver, each with the reason it may.

Fields listed here are removed from both answers before they are compared; everything else (status
codes, reasons, messages, stored objects) must be equal.
"""

from __future__ import annotations

# object field path (dot-separated, under the answer body) -> why the two servers may differ there
IGNORED_FIELDS: dict[str, str] = {
    "metadata.uid": "generated per server",
    "metadata.resourceVersion": "each server's own etcd revision",
    "metadata.creationTimestamp": "the time of each request",
    "metadata.managedFields": "the sandbox keeps what clients send but does not compute field ownership",
    "metadata.deletionTimestamp": "the time of each request",
    "details.uid": "generated per server (in the Status a delete answers)",
    "spec.clusterIP": "allocated at random from the service range",
    "spec.clusterIPs": "allocated at random from the service range",
    "status.conditions.lastTransitionTime": "the time of each transition",
}

# a claim's status fields the sandbox does not model
CLAIM_STATUS_IGNORED: dict[str, str] = {
    "conditions": "kube-controller-manager 1.37 adds an `Unused` condition (NoPodsUsingPVC) to claims no pod "
    "mounts; restores never read it and the sandbox's claims carry no conditions",
}

# Compared once both servers settle (see the `quotas` scenario): kube-apiserver enforces a new
# ResourceQuota only after kube-controller-manager first counts it, while the sandbox enforces it at
# once and writes no quota status; and a quota with room is eventually consistent on kube-apiserver
# (the controller's recount races with admission), so the scenario uses quotas with no room.
