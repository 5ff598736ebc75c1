"""The node simulator: plays the kubelet, a volume provisioner and Velero's node agent over the API,
for a control plane that has no nodes of its own.

- one Node, `node-1`, Ready, its Lease renewed as a kubelet's would be;
- pods the scheduler binds to it become Running and Ready (or wait in Init while Velero's
  `restore-wait` helper waits for their PodVolumeRestores); pods being deleted are removed at once;
- claims waiting for an external provisioner get a hostPath volume, which the controller-manager's
  binder binds; PodVolumeRestores and DataDownloads advance to Completed as the node agent would.

The status shapes are the sandbox's (`restoreflow.sandbox.controllers`), so both targets agree.
Exec is kwok's (`--kubelet-port`, where the control plane runs it when asked); without it the API
server's `pods/exec` to this node fails as it does for a node whose kubelet does not answer.

Run as `python -m restoreflow.controlplane.nodes --kubeconfig PATH` (the control plane does).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import signal
import threading
import time
from typing import Any

from restoreflow.cluster.client import MERGE_PATCH, Cluster
from restoreflow.cluster.errors import ApiError, ConnectionFault
from restoreflow.plan.model import Target
from restoreflow.sandbox.controllers.pods import pod_status
from restoreflow.sandbox.controllers.storage import volume_for_claim
from restoreflow.sandbox.controllers.volume_restores import next_status as next_pvr_status
from restoreflow.sandbox.initial import node_object

NODE = "node-1"
KUBELET_PORT = 10250  # the node's kubelet port: kwok's exec server, when the plane runs one
TICK = 0.2  # seconds between passes
LEASE_EVERY = 10.0
PROVISIONER_ANNOTATIONS = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)
NOT_PROVISIONED = "kubernetes.io/no-provisioner"
DD_TOTAL_BYTES = 10 * 1024 * 1024


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class NodeSimulator:
    def __init__(self, cluster: Cluster, node: str = NODE, kubelet_port: int = KUBELET_PORT) -> None:
        self.cluster = cluster
        self.node = node
        self.kubelet_port = kubelet_port
        self.stopped = threading.Event()
        self._last_lease = 0.0

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.ensure_node()
                break
            except (ApiError, ConnectionFault) as error:
                print(f"node simulator: registering {self.node}: {error}", flush=True)
                self.stopped.wait(TICK)
        while not self.stopped.is_set():
            for step in (self.renew_lease, self.run_pods, self.provision_claims, self.advance_volume_restores,
                         self.advance_data_downloads):  # fmt: skip
                try:
                    step()
                except (ApiError, ConnectionFault) as error:
                    print(f"node simulator: {step.__name__}: {error}", flush=True)
            self.stopped.wait(TICK)

    # -- the node ----------------------------------------------------------------------------------
    def ensure_node(self) -> None:
        node = self.cluster.get("nodes", self.node)
        if node is None:
            wanted = node_object(self.node)
            status = wanted.pop("status")
            node = self.cluster.create("nodes", wanted)
            node["status"] = status
        node["status"]["addresses"] = [
            {"type": "InternalIP", "address": "127.0.0.1"},
            {"type": "Hostname", "address": self.node},
        ]
        node["status"]["daemonEndpoints"] = {"kubeletEndpoint": {"Port": self.kubelet_port}}
        for condition in node["status"].get("conditions") or []:
            condition["lastHeartbeatTime"] = condition["lastTransitionTime"] = _now()
        # a merge patch, not a PUT: controllers annotate a new node meanwhile, and a PUT would conflict
        path = self.cluster.info("nodes").path(None, self.node, "status")
        self.cluster.request("PATCH", path, body={"status": node["status"]}, content_type=MERGE_PATCH)
        # The admission plugin taints a new node not-ready; without the node lifecycle controller
        # (which would evict pods of a node with no kubelet) the simulator lifts it, as that one would.
        self.cluster.patch("nodes", self.node, {"spec": {"taints": None}})

    def renew_lease(self) -> None:
        if time.monotonic() - self._last_lease < LEASE_EVERY:
            return
        self._last_lease = time.monotonic()
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.node, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": self.node, "leaseDurationSeconds": 40, "renewTime": stamp},
        }
        try:
            self.cluster.create("leases.coordination.k8s.io", lease)
        except ApiError as error:
            if error.code != 409:
                raise
            self.cluster.patch(
                "leases.coordination.k8s.io", self.node, {"spec": lease["spec"]}, "kube-node-lease"
            )

    # -- pods ----------------------------------------------------------------------------------------
    def run_pods(self) -> None:
        body = self.cluster.request(
            "GET", "/api/v1/pods", query={"fieldSelector": f"spec.nodeName={self.node}"}
        )
        for pod in body.get("items") or []:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                self._remove(pod)
                continue
            initializing = self._restore_wait_pending(pod)
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Running" or (
                initializing and (pod.get("status") or {}).get("initContainerStatuses")
            ):
                continue
            pod.setdefault("apiVersion", "v1")
            pod.setdefault("kind", "Pod")
            updated = pod_status(pod, self.node, initializing)
            updated["status"]["hostIP"] = "127.0.0.1"
            updated["status"]["hostIPs"] = [{"ip": "127.0.0.1"}]
            self._write_status("pods", updated)

    def _remove(self, pod: dict[str, Any]) -> None:
        """What the kubelet does once containers stopped: delete with no grace period left."""
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                "preconditions": {"uid": meta["uid"]}}  # fmt: skip
        try:
            self.cluster.request("DELETE", path, body=body)
        except ApiError as error:
            if error.code not in (404, 409):
                raise

    def _restore_wait_pending(self, pod: dict[str, Any]) -> bool:
        helper = next(
            (c for c in pod["spec"].get("initContainers") or [] if c.get("name") == "restore-wait"), None
        )
        if helper is None:
            return False
        projected = {v.get("name") for v in pod["spec"].get("volumes") or [] if "projected" in v}
        # the API server mounts the service-account token into every container; only data volumes wait
        volumes = {m.get("name") for m in helper.get("volumeMounts") or []} - projected
        try:
            pvrs = self.cluster.list(
                "podvolumerestores.velero.io", label_selector=f"velero.io/pod-uid={pod['metadata']['uid']}"
            )
        except ApiError as error:
            if error.code == 404:
                return bool(volumes)
            raise
        finished = {
            (pvr.get("spec") or {}).get("volume")
            for pvr in pvrs
            if (pvr.get("status") or {}).get("phase") in ("Completed", "Failed")
        }
        return not volumes <= finished

    # -- volumes -------------------------------------------------------------------------------------
    def provision_claims(self) -> None:
        for pvc in self.cluster.list("persistentvolumeclaims"):
            meta, spec = pvc["metadata"], pvc.get("spec") or {}
            annotations = meta.get("annotations") or {}
            provisioner = next((annotations[a] for a in PROVISIONER_ANNOTATIONS if a in annotations), None)
            if (
                provisioner in (None, NOT_PROVISIONED)
                or spec.get("volumeName")
                or meta.get("deletionTimestamp")
            ):
                continue
            if (pvc.get("status") or {}).get("phase") not in (None, "Pending"):
                continue
            sc = self.cluster.get("storageclasses.storage.k8s.io", spec.get("storageClassName") or "") or {}
            if sc.get("provisioner") != provisioner:
                continue
            name = f"pvc-{meta['uid']}"
            if self.cluster.get("persistentvolumes", name) is not None:
                continue
            pv = volume_for_claim(name, pvc, sc)
            pv.pop("status", None)
            pv["spec"]["claimRef"] = {
                "kind": "PersistentVolumeClaim",
                "apiVersion": "v1",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            }
            self._create(pv)

    def advance_volume_restores(self) -> None:
        for pvr in self._velero_list("podvolumerestores.velero.io"):
            phase = (pvr.get("status") or {}).get("phase") or ""
            if phase in ("Completed", "Failed"):
                continue
            ref = (pvr.get("spec") or {}).get("pod") or {}
            pod = self.cluster.get("pods", ref.get("name", ""), ref.get("namespace", ""))
            status = next_pvr_status(pvr.get("status") or {}, pod)
            if status is not None and status != pvr.get("status"):
                self._write_status("podvolumerestores.velero.io", {**pvr, "status": status})

    def advance_data_downloads(self) -> None:
        for dd in self._velero_list("datadownloads.velero.io"):
            status = copy.deepcopy(dd.get("status") or {})
            phase = status.get("phase") or "New"
            if phase in ("Completed", "Failed", "Canceled"):
                continue
            spec = dd.get("spec") or {}
            if spec.get("cancel"):
                status |= {"phase": "Canceled", "completionTimestamp": _now()}
            elif phase == "New":
                status |= {"phase": "Accepted", "acceptedByNode": self.node, "acceptedTimestamp": _now()}
            else:
                status = self._download_step(dd, status) or status
            if status != (dd.get("status") or {}):
                self._write_status("datadownloads.velero.io", {**dd, "status": status})

    def _download_step(self, dd: dict[str, Any], status: dict[str, Any]) -> dict[str, Any] | None:
        target = (dd.get("spec") or {}).get("targetVolume") or {}
        pvc = self.cluster.get("persistentvolumeclaims", target.get("pvc", ""), target.get("namespace", ""))
        total = int((dd.get("spec") or {}).get("snapshotSize") or DD_TOTAL_BYTES)
        phase = status["phase"]
        if phase == "Accepted":
            return (status | {"phase": "Prepared", "node": self.node}) if pvc is not None else None
        if phase == "Prepared":
            progress = {"totalBytes": total, "bytesDone": total // 2}
            return status | {"phase": "InProgress", "startTimestamp": _now(), "progress": progress}
        if pvc is None:
            message = "error to get target PVC: not found"
            return status | {"phase": "Failed", "message": message, "completionTimestamp": _now()}
        if not (pvc.get("spec") or {}).get("volumeName"):
            self._rebind(pvc)
            return None
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return None
        progress = {"totalBytes": total, "bytesDone": total}
        return status | {"phase": "Completed", "progress": progress, "completionTimestamp": _now()}

    def _rebind(self, pvc: dict[str, Any]) -> None:
        """The restored volume, pre-bound to the target claim, which the binder then binds to it."""
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        name = f"pvc-{meta['uid']}"
        if self.cluster.get("persistentvolumes", name) is not None:
            return
        sc = self.cluster.get("storageclasses.storage.k8s.io", spec.get("storageClassName") or "") or {}
        pv = volume_for_claim(name, pvc, sc)
        pv.pop("status", None)
        pv["metadata"]["labels"] = dict((spec.get("selector") or {}).get("matchLabels") or {})
        pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                                  "name": meta["name"], "uid": meta["uid"]}  # fmt: skip
        self._create(pv)

    # -- helpers -------------------------------------------------------------------------------------
    def _velero_list(self, resource: str) -> list[dict[str, Any]]:
        try:
            return self.cluster.list(resource)
        except ApiError as error:
            if error.code == 404:  # Velero's CRDs are not installed
                self.cluster.discovery.refresh()
                return []
            raise

    def _create(self, obj: dict[str, Any]) -> None:
        try:
            self.cluster.create(obj["kind"].lower() + "s", obj)
        except ApiError as error:
            if error.code != 409:
                raise

    def _write_status(self, resource: str, obj: dict[str, Any]) -> None:
        """PUT the status subresource (the whole object where the type has none); conflicts wait for the
        next pass, as a controller's would."""
        try:
            self.cluster.update_status(resource, obj)
        except ApiError as error:
            if error.code == 404 and "status" not in error.message:
                meta = obj["metadata"]
                path = self.cluster.info(resource).path(meta.get("namespace"), meta["name"])
                try:
                    self.cluster.request("PUT", path, body=obj)
                except ApiError as retry_error:
                    if retry_error.code not in (404, 409):
                        raise
            elif error.code not in (404, 409, 422):
                raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m restoreflow.controlplane.nodes")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--node", default=NODE)
    parser.add_argument("--kubelet-port", type=int, default=KUBELET_PORT, help="where exec requests go")
    args = parser.parse_args(argv)
    cluster = Cluster.for_target(Target(kubeconfig=args.kubeconfig))
    simulator = NodeSimulator(cluster, args.node, args.kubelet_port)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: simulator.stopped.set())
    print(f"node simulator: playing node {args.node}", flush=True)
    simulator.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
