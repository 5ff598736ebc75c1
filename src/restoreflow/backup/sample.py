"""A realistic sample application and its backup, for the demo and for end-to-end tests.

The objects look like what a cluster returns (uid, resourceVersion, creationTimestamp,
managedFields, status), so restoring them exercises what a real restore must strip and keep.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from .builder import BackupBuilder, rfc3339
from .storage import BackupRecord, BackupStorage

SAMPLE_START = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)
HOOK_COMMAND = ["echo", "restored"]


@dataclass
class SampleApplication:
    """The application's objects plus the volume records its backup carries."""

    namespace: str
    objects: list[dict[str, Any]]
    pod_volume_backups: list[dict[str, Any]] = field(default_factory=list)
    volume_info: list[dict[str, Any]] = field(default_factory=list)

    def add_to(self, builder: BackupBuilder) -> BackupBuilder:
        builder.add_all(self.objects)
        for pvb in self.pod_volume_backups:
            builder.add_pod_volume_backup(pvb)
        for info in self.volume_info:
            builder.add_volume_info(info)
        return builder

    def find(self, kind: str, name: str) -> dict[str, Any]:
        return next(o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name)


class _Cluster:
    """Hands out metadata the way an API server would: uids, rising resourceVersions, times."""

    def __init__(self, namespace: str, created: datetime) -> None:
        self.namespace = namespace
        self.created = created
        self.versions = count(48213, 7)

    def uid(self, kind: str, name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.namespace}.{kind}.{name}.sample.restoreflow.dev"))

    def metadata(
        self,
        api_version: str,
        kind: str,
        name: str,
        *,
        namespaced: bool = True,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        manager: str = "kubectl-client-side-apply",
        **extra: Any,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if namespaced:
            meta["namespace"] = self.namespace
        meta |= {
            "uid": self.uid(kind, name),
            "resourceVersion": str(next(self.versions)),
            "creationTimestamp": rfc3339(self.created),
        }
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        meta |= extra
        meta["managedFields"] = [
            {
                "manager": manager,
                "operation": "Update",
                "apiVersion": api_version,
                "time": rfc3339(self.created),
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}}} if labels else {"f:name": {}}},
            }
        ]
        return meta


def _last_applied(obj: dict[str, Any]) -> str:
    """The `kubectl.kubernetes.io/last-applied-configuration` annotation kubectl apply leaves."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sample_application(namespace: str = "shop", created: datetime | None = None) -> SampleApplication:
    """A small web shop: the kinds a restore must handle, each as a cluster would return it."""
    k = _Cluster(namespace, created or SAMPLE_START - timedelta(days=3))
    app = {"app.kubernetes.io/part-of": "shop"}
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": k.metadata(
                "v1",
                "Namespace",
                namespace,
                namespaced=False,
                labels={"kubernetes.io/metadata.name": namespace, **app},
            ),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": k.metadata("v1", "ServiceAccount", "web", labels=app),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": k.metadata("rbac.authorization.k8s.io/v1", "Role", "web-reader", labels=app),
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": k.metadata("rbac.authorization.k8s.io/v1", "RoleBinding", "web-reader", labels=app),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "web-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": namespace}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": k.metadata("v1", "ConfigMap", "web-config", labels=app),
            "data": {"SHOP_CURRENCY": "EUR", "SHOP_DB_HOST": f"db.{namespace}.svc.cluster.local"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": k.metadata("v1", "Secret", "web-credentials", labels=app),
            "type": "Opaque",
            "data": {"username": _b64("shop"), "password": _b64("s3cr3t-sample-password")},
        },
        _deployment(k, app),
        _statefulset(k, app),
        *_services(k, app),
        *_volumes(k, app),
        *_widgets(k, app),
        _job(k, app),
        *_pods(k, app),
    ]
    return SampleApplication(namespace, objects, [_pod_volume_backup(k)], _volume_info(k))


def sample_backup(
    storage: BackupStorage | str | Path,
    name: str = "demo-backup",
    *,
    namespace: str = "shop",
    options: Mapping[str, Any] | None = None,
    schedule: str | None = None,
    start: datetime | None = None,
) -> BackupRecord:
    """Write the sample application's backup (Completed, format 1.1.0) into a BSL."""
    start = start or SAMPLE_START
    builder = BackupBuilder(name, schedule=schedule, start=start, included_namespaces=[namespace])
    sample_application(namespace).add_to(builder)
    return builder.write(storage, options)


def _deployment(k: _Cluster, app: dict[str, str]) -> dict[str, Any]:
    labels = {"app": "web", **app}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": k.metadata(
            "apps/v1",
            "Deployment",
            "web",
            labels=labels,
            generation=1,
            annotations={"deployment.kubernetes.io/revision": "1"},
        ),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": "web",
                    "containers": [
                        {
                            "name": "web",
                            "image": "docker.io/library/nginx:1.27.2",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "envFrom": [{"configMapRef": {"name": "web-config"}}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                            "imagePullPolicy": "IfNotPresent",
                        }
                    ],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                },
            },
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


def _statefulset(k: _Cluster, app: dict[str, str]) -> dict[str, Any]:
    labels = {"app": "db", **app}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": k.metadata("apps/v1", "StatefulSet", "db", labels=labels, generation=1),
        "spec": {
            "replicas": 1,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "postgres",
                            "image": "docker.io/library/postgres:16.4",
                            "ports": [{"containerPort": 5432, "name": "postgres", "protocol": "TCP"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
                        }
                    ],
                    "restartPolicy": "Always",
                },
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "standard",
                        "resources": {"requests": {"storage": "1Gi"}},
                        "volumeMode": "Filesystem",
                    },
                    "status": {"phase": "Pending"},
                }
            ],
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "readyReplicas": 1,
            "currentReplicas": 1,
            "updatedReplicas": 1,
            "availableReplicas": 1,
            "collisionCount": 0,
        },
    }


def _services(k: _Cluster, app: dict[str, str]) -> list[dict[str, Any]]:
    # `web` was applied with an explicit nodePort (kept by a restore); `web-admin` got one assigned.
    web_applied = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": k.namespace},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": 80, "nodePort": 30080}],
        },
    }
    admin_applied = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web-admin", "namespace": k.namespace},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"name": "admin", "port": 8080}]},
    }
    common = {
        "sessionAffinity": "None",
        "externalTrafficPolicy": "Cluster",
        "internalTrafficPolicy": "Cluster",
    }
    families = {"ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": k.metadata("v1", "Service", "db", labels={"app": "db", **app}),
            "spec": {
                "clusterIP": "None",
                "clusterIPs": ["None"],
                "selector": {"app": "db"},
                "ports": [{"name": "postgres", "port": 5432, "protocol": "TCP", "targetPort": 5432}],
                "type": "ClusterIP",
                "sessionAffinity": "None",
                **families,
            },
            "status": {"loadBalancer": {}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": k.metadata(
                "v1",
                "Service",
                "web",
                labels=app,
                annotations={"kubectl.kubernetes.io/last-applied-configuration": _last_applied(web_applied)},
            ),
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.41.17",
                "clusterIPs": ["10.96.41.17"],
                "selector": {"app": "web"},
                "ports": [
                    {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30080}
                ],
                **common,
                **families,
            },
            "status": {"loadBalancer": {}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": k.metadata(
                "v1",
                "Service",
                "web-admin",
                labels=app,
                annotations={
                    "kubectl.kubernetes.io/last-applied-configuration": _last_applied(admin_applied)
                },
            ),
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.87.203",
                "clusterIPs": ["10.96.87.203"],
                "selector": {"app": "web"},
                "ports": [
                    {"name": "admin", "port": 8080, "protocol": "TCP", "targetPort": 8080, "nodePort": 31742}
                ],
                **common,
                **families,
            },
            "status": {"loadBalancer": {}},
        },
    ]


def _volumes(k: _Cluster, app: dict[str, str]) -> list[dict[str, Any]]:
    claim_uid = k.uid("PersistentVolumeClaim", "data-db-0")
    pv_name = f"pvc-{claim_uid}"
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": k.metadata(
            "v1",
            "PersistentVolumeClaim",
            "data-db-0",
            labels={"app": "db", **app},
            annotations={
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": "sandbox.restoreflow.dev/hostpath",
                "volume.kubernetes.io/storage-provisioner": "sandbox.restoreflow.dev/hostpath",
            },
            finalizers=["kubernetes.io/pvc-protection"],
        ),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
            "volumeName": pv_name,
        },
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}},
    }
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": k.metadata(
            "v1",
            "PersistentVolume",
            pv_name,
            namespaced=False,
            annotations={"pv.kubernetes.io/provisioned-by": "sandbox.restoreflow.dev/hostpath"},
            finalizers=["kubernetes.io/pv-protection"],
        ),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "1Gi"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": k.namespace,
                "name": "data-db-0",
                "uid": claim_uid,
                "resourceVersion": claim["metadata"]["resourceVersion"],
            },
            "hostPath": {"path": f"/var/lib/sandbox/volumes/{pv_name}", "type": "DirectoryOrCreate"},
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    return [claim, volume]


def _widgets(k: _Cluster, app: dict[str, str]) -> list[dict[str, Any]]:
    crd_name = "widgets.example.com"
    crd_api = "apiextensions.k8s.io/v1"
    crd = {
        "apiVersion": crd_api,
        "kind": "CustomResourceDefinition",
        "metadata": k.metadata(crd_api, "CustomResourceDefinition", crd_name, namespaced=False, generation=1),
        "spec": {
            "group": "example.com",
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "listKind": "WidgetList",
                "shortNames": ["wd"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"color": {"type": "string"}, "size": {"type": "integer"}},
                                },
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                    "subresources": {"status": {}},
                }
            ],
            "conversion": {"strategy": "None"},
        },
        "status": {
            "acceptedNames": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "listKind": "WidgetList",
                "shortNames": ["wd"],
            },
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                },
            ],
            "storedVersions": ["v1"],
        },
    }
    widgets = [
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": k.metadata("example.com/v1", "Widget", color, labels=app, generation=1),
            "spec": {"color": color, "size": size},
            "status": {"ready": True},
        }
        for color, size in (("blue", 3), ("green", 5))
    ]
    return [crd, *widgets]


def _job(k: _Cluster, app: dict[str, str]) -> dict[str, Any]:
    job_uid = k.uid("Job", "migrate")
    controller = {"batch.kubernetes.io/controller-uid": job_uid, "controller-uid": job_uid}
    names = {"batch.kubernetes.io/job-name": "migrate", "job-name": "migrate"}
    finished = rfc3339(k.created + timedelta(minutes=2))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": k.metadata(
            "batch/v1", "Job", "migrate", labels={**controller, **names, **app}, generation=1
        ),
        "spec": {
            "parallelism": 1,
            "completions": 1,
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "suspend": False,
            "manualSelector": False,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}},
            "template": {
                "metadata": {"labels": {**controller, **names}},
                "spec": {
                    "containers": [
                        {"name": "migrate", "image": "docker.io/library/postgres:16.4", "command": ["true"]}
                    ],
                    "restartPolicy": "Never",
                },
            },
        },
        "status": {
            "succeeded": 1,
            "ready": 0,
            "startTime": rfc3339(k.created),
            "completionTime": finished,
            "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": finished}],
        },
    }


def _pods(k: _Cluster, app: dict[str, str]) -> list[dict[str, Any]]:
    hooks = {
        "post.hook.restore.velero.io/container": "toolbox",
        "post.hook.restore.velero.io/command": json.dumps(HOOK_COMMAND),
        "post.hook.restore.velero.io/on-error": "Continue",
        "post.hook.restore.velero.io/exec-timeout": "30s",
        "post.hook.restore.velero.io/wait-timeout": "2m",
        "backup.velero.io/backup-volumes": "cache",
    }
    running = {
        "phase": "Running",
        "hostIP": "172.18.0.2",
        "podIP": "10.244.0.17",
        "podIPs": [{"ip": "10.244.0.17"}],
        "qosClass": "BestEffort",
        "startTime": rfc3339(k.created),
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}],
    }
    owner = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "db",
        "uid": k.uid("StatefulSet", "db"),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    toolbox = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": k.metadata("v1", "Pod", "toolbox", labels={"app": "toolbox", **app}, annotations=hooks),
        "spec": {
            "containers": [
                {
                    "name": "toolbox",
                    "image": "docker.io/library/busybox:1.36",
                    "command": ["sleep", "3600"],
                    "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
                }
            ],
            "volumes": [{"name": "cache", "emptyDir": {}}],
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "serviceAccountName": "default",
        },
        "status": running,
    }
    database = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": k.metadata(
            "v1",
            "Pod",
            "db-0",
            labels={"app": "db", "statefulset.kubernetes.io/pod-name": "db-0", **app},
            generateName="db-",
            ownerReferences=[owner],
        ),
        "spec": {
            "containers": [
                {
                    "name": "postgres",
                    "image": "docker.io/library/postgres:16.4",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}],
            "hostname": "db-0",
            "subdomain": "db",
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "serviceAccountName": "default",
        },
        "status": running | {"podIP": "10.244.0.18", "podIPs": [{"ip": "10.244.0.18"}]},
    }
    return [toolbox, database]


def _pod_volume_backup(k: _Cluster) -> dict[str, Any]:
    pod_uid = k.uid("Pod", "toolbox")
    started = SAMPLE_START + timedelta(seconds=5)
    return {
        "apiVersion": "velero.io/v1",
        "kind": "PodVolumeBackup",
        "metadata": {
            "name": f"{k.namespace}-toolbox-cache",
            "namespace": "velero",
            "uid": k.uid("PodVolumeBackup", "toolbox-cache"),
            "labels": {"velero.io/pod-uid": pod_uid, "velero.io/pvc-uid": ""},
            "creationTimestamp": rfc3339(started),
        },
        "spec": {
            "node": "node-1",
            "pod": {"kind": "Pod", "namespace": k.namespace, "name": "toolbox", "uid": pod_uid},
            "volume": "cache",
            "backupStorageLocation": "default",
            "repoIdentifier": "",
            "uploaderType": "kopia",
            "tags": {"ns": k.namespace, "pod": "toolbox", "pod-uid": pod_uid, "volume": "cache"},
        },
        "status": {
            "phase": "Completed",
            "path": f"/host_pods/{pod_uid}/volumes/kubernetes.io~empty-dir/cache",
            "snapshotID": "a4b6c3e2f1d04b5a9c8e7f6a5b4c3d2e",
            "startTimestamp": rfc3339(started),
            "completionTimestamp": rfc3339(started + timedelta(seconds=3)),
            "progress": {"totalBytes": 1048576, "bytesDone": 1048576},
        },
    }


def _volume_info(k: _Cluster) -> list[dict[str, Any]]:
    return [
        {
            "pvcName": "data-db-0",
            "pvcNamespace": k.namespace,
            "pvName": f"pvc-{k.uid('PersistentVolumeClaim', 'data-db-0')}",
            "backupMethod": "",
            "snapshotDataMoved": False,
            "preserveLocalSnapshot": False,
            "skipped": True,
            "skippedReason": "no applicable volume policy, snapshot or file-system backup for the volume",
            "startTimestamp": rfc3339(SAMPLE_START),
            "result": "",
            "pvInfo": {"reclaimPolicy": "Delete", "labels": {}},
        }
    ]
