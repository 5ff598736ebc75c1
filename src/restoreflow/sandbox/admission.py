"""What the API server adds and checks when an object is written: defaults, per-kind validation and
Service IP / nodePort allocation, only where a restore can notice."""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from restoreflow.kube.names import config_key_errors
from restoreflow.sandbox.catalog import ResourceType
from restoreflow.sandbox.validation import FieldError, GoText

PVC_PROTECTION = "kubernetes.io/pvc-protection"
SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


# Status right after create: Go's zero values of the fields serialised without omitempty.
EMPTY_STATUS: dict[str, dict[str, Any]] = {
    "StatefulSet": {"replicas": 0, "availableReplicas": 0},
    "ReplicaSet": {"replicas": 0},
    "ReplicationController": {"replicas": 0},
    "HorizontalPodAutoscaler": {"currentReplicas": 0, "desiredReplicas": 0},
    "VolumeAttachment": {"attached": False},
    "PodDisruptionBudget": {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    },
    "DaemonSet": {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    },
}


@dataclass
class Allocations:
    """Service cluster IPs (10.96.0.0/12) and node ports in use, like the API server's allocators."""

    port_range: tuple[int, int]
    node_ports: dict[int, str] = field(default_factory=dict)  # port -> "ns/name" of the owner
    cluster_ips: dict[str, str] = field(default_factory=dict)
    _next_ip: int = int(ipaddress.IPv4Address("10.96.0.10"))

    def allocate_ip(self, owner: str) -> str:
        while str(ipaddress.IPv4Address(self._next_ip)) in self.cluster_ips:
            self._next_ip += 1
        ip = str(ipaddress.IPv4Address(self._next_ip))
        self.cluster_ips[ip] = owner
        return ip

    def allocate_port(self, owner: str) -> int | None:
        low, high = self.port_range
        return next((p for p in range(low, high + 1) if p not in self.node_ports), None)

    def release(self, service: dict[str, Any]) -> None:
        owner = _owner(service)
        for port, who in list(self.node_ports.items()):
            if who == owner:
                del self.node_ports[port]
        for ip, who in list(self.cluster_ips.items()):
            if who == owner:
                del self.cluster_ips[ip]

    def record(self, service: dict[str, Any]) -> None:
        """Mark what a stored Service holds as taken (objects loaded as they are)."""
        owner, spec = _owner(service), service.get("spec") or {}
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            self.cluster_ips[ip] = owner
        for port in spec.get("ports") or []:
            if port.get("nodePort"):
                self.node_ports[int(port["nodePort"])] = owner


def _owner(service: dict[str, Any]) -> str:
    meta = service["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def allocate_service(
    alloc: Allocations, service: dict[str, Any], old: dict[str, Any] | None, dry_run: bool
) -> list[FieldError]:
    """Defaults and allocations of a Service's spec; errors as the allocators report them."""
    spec = service.setdefault("spec", {})
    old_spec = (old or {}).get("spec") or {}
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    svc_type = spec["type"]
    owner = _owner(service)
    errors: list[FieldError] = []
    for port in spec.setdefault("ports", []):
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if svc_type != "ExternalName":
        errors += _allocate_cluster_ip(alloc, spec, old_spec, owner, dry_run)
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if svc_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
        if svc_type == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        errors += _allocate_node_ports(alloc, spec, old_spec, owner, dry_run)
    elif not errors and old is not None:
        for port in spec["ports"]:
            port.pop("nodePort", None)
    return errors


def _allocate_cluster_ip(
    alloc: Allocations, spec: dict[str, Any], old_spec: dict[str, Any], owner: str, dry_run: bool
) -> list[FieldError]:
    old_ip = old_spec.get("clusterIP")
    if old_ip and spec.get("clusterIP") and spec["clusterIP"] != old_ip:
        changed = [spec["clusterIP"], *(spec.get("clusterIPs") or [])[1:]]
        return [FieldError("FieldValueInvalid", "spec.clusterIPs[0]", changed, "may not change once set")]
    ip = spec.get("clusterIP") or old_ip or ""
    if ip in ("", None):
        ip = "10.96.0.0" if dry_run else alloc.allocate_ip(owner)
    elif ip != "None":
        if not _in_service_range(ip):
            detail = f"failed to allocate IP {ip}: the provided network does not match the current range"
            return [FieldError("FieldValueInvalid", "spec.clusterIPs", [ip], detail)]
        holder = alloc.cluster_ips.get(ip)
        if holder and holder != owner:
            detail = f"failed to allocate IP {ip}: provided IP is already allocated"
            return [FieldError("FieldValueInvalid", "spec.clusterIPs", [ip], detail)]
        if not dry_run:
            alloc.cluster_ips[ip] = owner
    spec["clusterIP"] = ip
    spec["clusterIPs"] = [ip]
    return []


def _in_service_range(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in SERVICE_RANGE
    except ValueError:
        return True  # not an address at all: validation says so


def _allocate_node_ports(
    alloc: Allocations, spec: dict[str, Any], old_spec: dict[str, Any], owner: str, dry_run: bool
) -> list[FieldError]:
    low, high = alloc.port_range
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports") or []
    }
    errors: list[FieldError] = []
    taken: list[int] = []
    for i, port in enumerate(spec["ports"]):
        wanted = port.get("nodePort") or old_ports.get((port.get("port"), port.get("protocol", "TCP")))
        path = f"spec.ports[{i}].nodePort"
        if wanted:
            wanted = int(wanted)
            if not low <= wanted <= high:
                detail = f"provided port is not in the valid range. The range of valid ports is {low}-{high}"
                errors.append(FieldError("FieldValueInvalid", path, wanted, detail))
                continue
            holder = alloc.node_ports.get(wanted)
            if (holder and holder != owner) or wanted in taken:
                errors.append(
                    FieldError("FieldValueInvalid", path, wanted, "provided port is already allocated")
                )
                continue
        else:
            free = [p for p in range(low, high + 1) if p not in alloc.node_ports and p not in taken]
            if not free:
                errors.append(FieldError("FieldValueInvalid", path, 0, "range is full"))
                continue
            wanted = free[0]
        taken.append(wanted)
        port["nodePort"] = wanted
    if not errors and not dry_run:
        for port, who in list(alloc.node_ports.items()):
            if who == owner and port not in taken:
                del alloc.node_ports[port]
        alloc.node_ports.update(dict.fromkeys(taken, owner))
    return errors


def _image_pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


VOLUME_SOURCES_WITH_MODE = ("configMap", "secret", "projected", "downwardAPI")


def default_pod_spec(spec: dict[str, Any]) -> None:
    for volume in spec.get("volumes") or []:
        for source in VOLUME_SOURCES_WITH_MODE:
            if isinstance(volume.get(source), dict):
                volume[source].setdefault("defaultMode", 420)
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("imagePullPolicy", _image_pull_policy(container.get("image", "")))
        container.setdefault("resources", {})


def default_pod(pod: dict[str, Any]) -> None:
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def _qos_class(spec: dict[str, Any]) -> str:
    resources = [c.get("resources") or {} for c in spec.get("containers") or []]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(r.get("limits") and (r.get("requests") or r["limits"]) == r["limits"] for r in resources)
    return "Guaranteed" if guaranteed else "Burstable"


def default_workload(obj: dict[str, Any], kind: str) -> None:
    spec = obj.setdefault("spec", {})
    if kind != "DaemonSet":
        spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if kind == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault(
            "strategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        )
    elif kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    template_spec = (spec.get("template") or {}).get("spec")
    if isinstance(template_spec, dict):
        default_pod_spec(template_spec)


def default_job_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_Job: one completion at a time, six retries, a non-indexed, running Job."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault(
        "podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"
    )
    template_spec = (spec.get("template") or {}).get("spec")
    if isinstance(template_spec, dict):
        default_pod_spec(template_spec)


def _default_webhooks(obj: dict[str, Any], mutating: bool) -> None:
    for hook in obj.get("webhooks") or []:
        hook.setdefault("failurePolicy", "Fail")
        hook.setdefault("matchPolicy", "Equivalent")
        hook.setdefault("namespaceSelector", {})
        hook.setdefault("objectSelector", {})
        hook.setdefault("timeoutSeconds", 10)
        if mutating:
            hook.setdefault("reinvocationPolicy", "Never")
        for rule in hook.get("rules") or []:
            rule.setdefault("scope", "*")
        service = (hook.get("clientConfig") or {}).get("service")
        if isinstance(service, dict):
            service.setdefault("port", 443)


def _default_simple(kind: str, obj: dict[str, Any]) -> None:
    """The remaining per-kind defaults a restored object shows."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if kind == "StorageClass":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif kind == "PriorityClass":
        obj.setdefault("preemptionPolicy", "PreemptLowerPriority")
    elif kind == "NetworkPolicy":
        types = spec.setdefault("policyTypes", ["Ingress"])
        if spec.get("egress") and "Egress" not in types:
            types.append("Egress")
        for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
            for port in rule.get("ports") or []:
                port.setdefault("protocol", "TCP")
    elif kind == "CronJob":
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        template_spec = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get(
            "spec"
        )
        if isinstance(template_spec, dict):
            default_pod_spec(template_spec)
    elif kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        _default_webhooks(obj, kind == "MutatingWebhookConfiguration")
    elif kind == "Endpoints":
        for subset in obj.get("subsets") or []:
            for port in subset.get("ports") or []:
                port.setdefault("protocol", "TCP")


JOB_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


def generate_job_selector(job: dict[str, Any]) -> None:
    """A Job without `manualSelector: true` selects its pods by its own uid; labels already on the
    template are kept (validation then rejects a stale uid, as when a Job is restored unchanged)."""
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector") is True:
        return
    meta = job["metadata"]
    template = spec.setdefault("template", {})
    if not isinstance(template.get("metadata"), dict):
        template["metadata"] = {}
    if not isinstance(template["metadata"].get("labels"), dict):
        template["metadata"]["labels"] = {}
    labels = template["metadata"]["labels"]
    for key in JOB_NAME_LABELS:
        labels.setdefault(key, meta["name"])
    for key in JOB_UID_LABELS:
        labels.setdefault(key, meta["uid"])
    selector = spec.get("selector") or {}
    spec["selector"] = selector
    selector.setdefault("matchLabels", {}).setdefault(JOB_UID_LABELS[0], meta["uid"])


def validate_job_selector(job: dict[str, Any]) -> list[FieldError]:
    """ValidateGeneratedSelector: the template must carry this Job's uid and name labels."""
    spec = job.get("spec") or {}
    if spec.get("manualSelector") is True:
        return []
    meta = job["metadata"]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    errors = []
    expected = [(key, meta["uid"]) for key in JOB_UID_LABELS] + [
        (key, meta["name"]) for key in JOB_NAME_LABELS
    ]
    for key, value in sorted(expected, key=lambda kv: (kv[0] not in ("controller-uid", "job-name"), kv[0])):
        if labels.get(key) != value:
            path = f"spec.template.metadata.labels[{key}]"
            errors.append(FieldError("FieldValueInvalid", path, labels, f"must be '{value}'"))
    selector = spec.get("selector") or {}
    if (selector.get("matchLabels") or {}).get(JOB_UID_LABELS[0]) != meta["uid"]:
        shown = go_selector(selector)
        errors.append(
            FieldError("FieldValueInvalid", "spec.selector", shown, "`selector` not auto-generated")
        )
    return errors


def default_class_name(storage_classes: list[dict[str, Any]]) -> str | None:
    for sc in storage_classes:
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
            return sc["metadata"]["name"]
    return None


def apply_defaults(rtype: ResourceType, obj: dict[str, Any]) -> None:
    """Field defaults, applied to every create and update body (as the API server's defaulting)."""
    kind = rtype.kind if not rtype.custom else ""
    if kind:
        _drop_empty(obj)
    if kind == "Pod":
        default_pod(obj)
    elif kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "ReplicationController"):
        default_workload(obj, kind)
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
        _merge_string_data(obj)
    elif kind == "PersistentVolumeClaim":
        obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    elif kind == "PersistentVolume":
        spec = obj.setdefault("spec", {})
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
    elif kind == "Job":
        default_job_spec(obj.setdefault("spec", {}))
    elif kind == "PodTemplate":
        template_spec = (obj.get("template") or {}).get("spec")
        if isinstance(template_spec, dict):
            default_pod_spec(template_spec)
    else:
        _default_simple(kind, obj)


def _drop_empty(obj: dict[str, Any]) -> None:
    """Empty maps and lists that a built-in type's JSON encoding leaves out (`omitempty`)."""
    meta = obj.get("metadata") or {}
    for key in ("labels", "annotations", "finalizers", "ownerReferences"):
        if key in meta and not meta[key]:
            del meta[key]
    for key in ("data", "binaryData", "stringData"):
        if key in obj and not obj[key]:
            del obj[key]


def apply_create_defaults(rtype: ResourceType, obj: dict[str, Any], default_class: str | None) -> None:
    """Defaults set on create, per kind; status reset where the kind has a status subresource."""
    apply_defaults(rtype, obj)
    kind = rtype.kind if not rtype.custom else ""
    if rtype.has_status() and rtype.custom:
        obj.pop("status", None)
    elif rtype.has_status():
        obj["status"] = copy.deepcopy(EMPTY_STATUS.get(kind, {}))
    if kind == "Namespace":
        name = obj["metadata"].get("name", "")
        obj["metadata"]["labels"] = {
            **(obj["metadata"].get("labels") or {}),
            "kubernetes.io/metadata.name": name,
        }
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
    elif kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj.get("spec") or {})}
    elif kind == "PersistentVolumeClaim":
        spec = obj.setdefault("spec", {})
        if "storageClassName" not in spec and default_class and not spec.get("volumeName"):
            spec["storageClassName"] = default_class
        obj["status"] = {"phase": "Pending"}
        _add_finalizer(obj, PVC_PROTECTION)
    elif kind == "PersistentVolume":
        obj["status"] = {"phase": "Pending"}
        _add_finalizer(obj, PV_PROTECTION)
    elif kind == "CustomResourceDefinition":
        obj.setdefault("spec", {}).setdefault("conversion", {"strategy": "None"})
        obj["status"] = {"conditions": [], "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": []}
    elif kind == "Service":
        obj["status"] = {"loadBalancer": {}}
    elif kind == "Job":
        generate_job_selector(obj)


def validate_created(rtype: ResourceType, obj: dict[str, Any]) -> list[FieldError]:
    """Checks that need what create fills in (the uid)."""
    if rtype.kind == "Job" and not rtype.custom:
        return validate_job_selector(obj)
    return []


POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
PVC_UPDATE_FORBIDDEN = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName "
    "for bound claims"
)


def _merge_string_data(secret: dict[str, Any]) -> None:
    """`stringData` is write-only: the API server folds it into `data` (base64) and drops it."""
    string_data = secret.pop("stringData", None) or {}
    if string_data:
        data = secret.setdefault("data", {}) or {}
        data.update({k: base64.b64encode(str(v).encode()).decode() for k, v in string_data.items()})
        secret["data"] = data


def validate_update(rtype: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> list[FieldError]:
    """The immutable parts a restore with `existingResourcePolicy: update` can run into."""
    kind = "" if rtype.custom else rtype.kind
    if kind in ("ConfigMap", "Secret") and old.get("immutable") is True:
        return _immutable_data_errors(old, new, ("data", "binaryData") if kind == "ConfigMap" else ("data",))
    if kind == "Pod" and _mutable_pod_spec(old.get("spec")) != _mutable_pod_spec(new.get("spec")):
        return [FieldError("FieldValueForbidden", "spec", detail=POD_UPDATE_FORBIDDEN)]
    if kind == "PersistentVolumeClaim" and _claim_spec(old.get("spec")) != _claim_spec(new.get("spec")):
        return [FieldError("FieldValueForbidden", "spec", detail=PVC_UPDATE_FORBIDDEN)]
    if kind in IMMUTABLE_SELECTOR:
        selector = (new.get("spec") or {}).get("selector") or {}
        if selector != ((old.get("spec") or {}).get("selector") or {}):
            return [
                FieldError("FieldValueInvalid", "spec.selector", go_selector(selector), "field is immutable")
            ]
    return []


IMMUTABLE_SELECTOR = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")


def go_selector(selector: dict[str, Any]) -> GoText:
    """A LabelSelector inside a field error, as kube-apiserver 1.37 prints it: JSON in the type's field
    order, empty fields left out."""
    shown: dict[str, Any] = {}
    if selector.get("matchLabels"):
        shown["matchLabels"] = dict(sorted(selector["matchLabels"].items()))
    if selector.get("matchExpressions"):
        shown["matchExpressions"] = [
            {
                "key": e.get("key", ""),
                "operator": e.get("operator", ""),
                **({"values": e["values"]} if e.get("values") else {}),
            }
            for e in selector["matchExpressions"]
        ]
    return GoText(json.dumps(shown, separators=(",", ":")))


IMMUTABLE_SET = "field is immutable when `immutable` is set"


def _immutable_data_errors(
    old: dict[str, Any], new: dict[str, Any], fields: tuple[str, ...]
) -> list[FieldError]:
    errors = []
    if new.get("immutable") is not True:
        errors.append(FieldError("FieldValueForbidden", "immutable", detail=IMMUTABLE_SET))
    errors += [
        FieldError("FieldValueForbidden", name, detail=IMMUTABLE_SET)
        for name in fields
        if (old.get(name) or {}) != (new.get(name) or {})
    ]
    return errors


def _mutable_pod_spec(spec: dict[str, Any] | None) -> dict[str, Any]:
    """A pod spec without the fields an update may change."""
    masked = copy.deepcopy(spec or {})
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        masked.pop(key, None)
    for key in ("containers", "initContainers"):
        for container in masked.get(key) or []:
            container.pop("image", None)
    return masked


def _claim_spec(spec: dict[str, Any] | None) -> dict[str, Any]:
    masked = copy.deepcopy(spec or {})
    masked.pop("resources", None)
    masked.pop("volumeAttributesClassName", None)
    if masked.get("volumeName") == "":
        masked.pop("volumeName")
    return masked


def _add_finalizer(obj: dict[str, Any], finalizer: str) -> None:
    finalizers = obj["metadata"].setdefault("finalizers", [])
    if finalizer not in finalizers:
        finalizers.append(finalizer)


def validate_kind(rtype: ResourceType, obj: dict[str, Any]) -> list[FieldError]:
    """Per-kind checks a restore can run into."""
    kind = "" if rtype.custom else rtype.kind
    spec = obj.get("spec") or {}
    if kind == "Pod" and not spec.get("containers"):
        return [FieldError("FieldValueRequired", "spec.containers", detail="")]
    if kind == "Pod":
        return _validate_containers(spec, "spec")
    if kind == "Service":
        return _validate_port_names(spec.get("ports") or [])
    if kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        return _validate_workload_selector(spec, kind.lower())
    if kind == "CustomResourceDefinition":
        return _validate_crd(obj)
    if kind in ("ConfigMap", "Secret"):
        return _validate_data_keys(obj, ("data", "binaryData") if kind == "ConfigMap" else ("data",))
    return []


def _validate_containers(spec: dict[str, Any], path: str) -> list[FieldError]:
    """Every container needs a name and an image."""
    errors = []
    for field_name in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(field_name) or []):
            where = f"{path}.{field_name}[{i}]"
            if not container.get("name"):
                errors.append(FieldError("FieldValueRequired", f"{where}.name"))
            if not container.get("image"):
                errors.append(FieldError("FieldValueRequired", f"{where}.image"))
    return errors


def _validate_port_names(ports: list[dict[str, Any]]) -> list[FieldError]:
    """A Service with several ports names each of them, uniquely."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, port in enumerate(ports):
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            errors.append(FieldError("FieldValueRequired", f"spec.ports[{i}].name"))
        elif name in seen:
            errors.append(FieldError("FieldValueDuplicate", f"spec.ports[{i}].name", name))
        seen.add(name)
    return errors


def _validate_workload_selector(spec: dict[str, Any], kind: str) -> list[FieldError]:
    """A workload's selector is required and must select its own pod template."""
    selector = spec.get("selector")
    if selector is None:
        return [FieldError("FieldValueRequired", "spec.selector")]
    if not (selector.get("matchLabels") or selector.get("matchExpressions")):
        detail = f"empty selector is invalid for {kind}"
        return [FieldError("FieldValueInvalid", "spec.selector", go_selector(selector), detail)]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        detail = "`selector` does not match template `labels`"
        return [FieldError("FieldValueInvalid", "spec.template.metadata.labels", labels, detail)]
    return []


def _validate_data_keys(obj: dict[str, Any], fields: tuple[str, ...]) -> list[FieldError]:
    """Keys of ConfigMap and Secret data: IsConfigMapKey."""
    errors = []
    for name in fields:
        for key in obj.get(name) or {}:
            for message in config_key_errors(key):
                errors.append(FieldError("FieldValueInvalid", f"{name}[{key}]", key, message))
    return errors


def _validate_crd(crd: dict[str, Any]) -> list[FieldError]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    expected = f"{names.get('plural', '')}.{spec.get('group', '')}"
    name = crd["metadata"].get("name", "")
    errors = []
    if name != expected:
        errors.append(
            FieldError("FieldValueInvalid", "metadata.name", name, 'must be spec.names.plural+"."+spec.group')
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        detail = 'supported values: "Cluster", "Namespaced"'
        errors.append(FieldError("FieldValueNotSupported", "spec.scope", spec.get("scope", ""), detail))
    if spec.get("preserveUnknownFields") is True:
        detail = (
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
            "spec.versions[*].schema instead"
        )
        errors.append(FieldError("FieldValueInvalid", "spec.preserveUnknownFields", True, detail))
    versions = spec.get("versions") or []
    if not versions:
        errors.append(
            FieldError(
                "FieldValueInvalid",
                "spec.versions",
                "null",
                "must have exactly one version marked as storage version",
            )
        )
    elif sum(1 for v in versions if v.get("storage")) != 1:
        errors.append(
            FieldError(
                "FieldValueInvalid",
                "spec.versions",
                _short(versions),
                "must have exactly one version marked as storage version",
            )
        )
    return errors


def _short(versions: list[dict[str, Any]]) -> str:
    return str([v.get("name") for v in versions])


def copy_for_write(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)
