"""Backups and plans for the engine's end-to-end tests: objects shaped like a real cluster returns them."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from restoreflow.backup import BackupBuilder
from restoreflow.plan.model import Concurrency, RestorePlan, RestoreSpec, Source, Target

_versions = itertools.count(1000)
BACKUP = "nightly-20261124010000"


def kube_object(
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    status: Mapping[str, Any] | None = None,
    **body: Any,
) -> dict[str, Any]:
    """An object as the source cluster's API returned it (uid, resourceVersion, managedFields...)."""
    metadata: dict[str, Any] = {
        "name": name,
        "uid": str(uuid.uuid4()),
        "resourceVersion": str(next(_versions)),
        "creationTimestamp": "2026-11-20T10:00:00Z",
        "managedFields": [
            {
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": api_version,
                "time": "2026-11-20T10:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {}}},
            }
        ],
    }
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}
    if status is not None:
        obj["status"] = dict(status)
    return obj


def namespace(name: str, **kw: Any) -> dict[str, Any]:
    return kube_object(
        "v1", "Namespace", name, spec={"finalizers": ["kubernetes"]}, status={"phase": "Active"}, **kw
    )


def configmap(name: str, ns: str, data: Mapping[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    return kube_object("v1", "ConfigMap", name, ns, data=dict(data or {"key": name}), **kw)


def secret(name: str, ns: str, **kw: Any) -> dict[str, Any]:
    return kube_object("v1", "Secret", name, ns, type="Opaque", data={"password": "czNjcjN0"}, **kw)


def pod(name: str, ns: str, phase: str = "Running", **kw: Any) -> dict[str, Any]:
    spec = {
        "containers": [{"name": "app", "image": "registry.example/app:1.0"}],
        "restartPolicy": "Always",
        "nodeName": "node-1",
    }
    return kube_object("v1", "Pod", name, ns, spec=spec, status={"phase": phase}, **kw)


def deployment(name: str, ns: str, **kw: Any) -> dict[str, Any]:
    spec = {
        "replicas": 1,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]},
        },
    }
    return kube_object("apps/v1", "Deployment", name, ns, spec=spec, status={"replicas": 1}, **kw)


def cluster_role(name: str, **kw: Any) -> dict[str, Any]:
    rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    return kube_object("rbac.authorization.k8s.io/v1", "ClusterRole", name, rules=rules, **kw)


def widget_crd() -> dict[str, Any]:
    """A namespaced CRD `widgets.example.com` (short name wg) serving v1."""
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return kube_object(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "widgets.example.com",
        spec={
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wg"]},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
        status={"conditions": [{"type": "Established", "status": "True"}]},
    )


def widget(name: str, ns: str, size: int = 1) -> dict[str, Any]:
    return kube_object("example.com/v1", "Widget", name, ns, spec={"size": size})


def write_backup(
    root: Path, objects: Iterable[Mapping[str, Any]], name: str = BACKUP, **kw: Any
) -> tuple[str, BackupBuilder]:
    """Write a backup of `objects` into a local storage location under `root`; returns its URL."""
    location = root / "bsl"
    location.mkdir(exist_ok=True)
    builder = BackupBuilder(name, **kw)
    for obj in objects:
        builder.add(obj)
    builder.write(str(location))
    return str(location), builder


def make_plan(sandbox: Any, location: str, backup: str | None = BACKUP, **spec: Any) -> RestorePlan:
    """A plan restoring `backup` from `location` into the sandbox (small worker pool, no rate limit)."""
    spec.setdefault("concurrency", Concurrency(workers=8, qps=0, burst=100))
    source = Source(storage_location=location, backup_name=backup, schedule_name=spec.pop("schedule", None))
    return RestorePlan(
        name="engine-test",
        spec=RestoreSpec(source=source, target=Target(kubeconfig=str(sandbox.kubeconfig)), **spec),
    )


def posts(sandbox: Any, resource: str | None = None) -> list[dict[str, Any]]:
    """Create requests from the sandbox's log (dry runs excluded), in order."""
    return [
        r
        for r in sandbox.requests()
        if r["verb"] == "create" and not r.get("dry_run") and (resource is None or r["resource"] == resource)
    ]
