"""After a restore: what it created or updated is in the cluster as it wrote it, and the workloads come up.

What the restore wrote is recomputed by a preview of the same plan (the restore's own pipeline, with
the same restore name, so the same labels and transforms), which also reads each live object. Only
the fields restoreflow wrote are compared: defaults, status, managedFields and what the API server
allocates (cluster IPs, node ports) may differ by design. Readiness is polled until a timeout, and a
workload that does not come up is reported with its conditions and the Events that say why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from restoreflow.cluster import ApiError, Cluster, ConnectionFault
from restoreflow.plan.model import RestorePlan, Verify
from restoreflow.restore.context import RestoreContext
from restoreflow.restore.metadata import clone, reset_metadata_and_status
from restoreflow.restore.patches import contains
from restoreflow.restore.phases import ValidationFailed
from restoreflow.restore.preview import CREATE, RENAME, SKIP, ItemPreview, preview, redacted, unified_diff
from restoreflow.restore.selection import NAMESPACES

WRITTEN = ("created", "updated")
POLL_INTERVAL = 1.0


@dataclass
class Mismatch:
    """An object the restore wrote that is missing, or no longer holds what was written."""

    path: str  # "configmaps/shop/settings"
    problem: str  # "missing" or "changed"
    fields: list[str] = field(default_factory=list)  # where the live object differs
    diff: str = ""  # live -> as restored (Secret values redacted)


@dataclass
class NotReady:
    """A restored workload that did not become ready within the timeout, and why."""

    path: str
    reason: str
    conditions: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # "Warning FailedScheduling: 0/1 nodes are available..."


@dataclass
class Verification:
    """The verdict: every written object checked, every workload waited for."""

    restore: str
    checked: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    not_ready: list[NotReady] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # written, but not comparable (renamed PV clones)
    ready_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.not_ready

    @property
    def reason(self) -> str:
        """One line for the restore's errors and describe; empty when verification passed."""
        parts = []
        if self.mismatches:
            parts.append(f"{len(self.mismatches)} of {self.checked} restored objects missing or changed")
        if self.not_ready:
            parts.append(f"{len(self.not_ready)} of {self.ready_checked} workloads not ready")
        return "verification failed: " + ", ".join(parts) if parts else ""

    def problems(self) -> list[str]:
        """One message per problem, for the restore's results."""
        out = [
            f"verify: {m.path} {m.problem}" + (f": {', '.join(m.fields)}" if m.fields else "")
            for m in self.mismatches
        ]
        return out + [f"verify: {n.path} not ready: {n.reason}" for n in self.not_ready]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, **asdict(self)}

    def summary(self) -> dict[str, Any]:
        """What the restore record keeps (status.verification)."""
        out = {
            "phase": "Passed" if self.ok else "Failed",
            "objectsChecked": self.checked,
            "objectsMismatched": len(self.mismatches),
            "workloadsChecked": self.ready_checked,
            "workloadsNotReady": len(self.not_ready),
        }
        return out | ({"reason": self.reason} if self.reason else {})


def verify(
    plan: RestorePlan,
    *,
    restore_name: str,
    backup_name: str,
    resource_list: Mapping[str, Iterable[str]],
    readiness: bool = False,
    timeout: float = 300.0,
    cancel: threading.Event | None = None,
    uid: str | None = None,
) -> Verification:
    """Check what the restore `restore_name` (of uid `uid`) wrote, its record's resource list, against
    the cluster. Raises ValidationFailed when the backup or the cluster cannot be reached."""
    written = _written(resource_list)
    planned = preview(plan, restore_name=restore_name, backup_name=backup_name, cancel=cancel, uid=uid)
    result = Verification(restore_name)
    restored: list[ItemPreview] = []
    for item in planned.items:
        if (item.kind, item.namespace, item.name) not in written:
            continue
        if item.decision == RENAME:
            result.skipped.append(item.path)
            continue
        result.checked += 1
        restored.append(item)
        mismatch = compare(item)
        if mismatch is not None:
            result.mismatches.append(mismatch)
    if readiness:
        cluster = Cluster.for_target(plan.spec.target, plan.spec.concurrency, plan.spec.retries.api, cancel)
        try:
            _wait_ready(
                cluster, [i for i in restored if i.kind.rpartition("/")[2] in READY], timeout, result, cancel
            )
        finally:
            cluster.close()
    return result


def _written(resource_list: Mapping[str, Iterable[str]]) -> set[tuple[str, str, str]]:
    """(kind key, namespace, name) of the items the restore created or updated."""
    out = set()
    for kind, entries in resource_list.items():
        for entry in entries:
            where, _, action = entry.rstrip(")").rpartition("(")
            if action in WRITTEN:
                namespace, _, name = where.rpartition("/")
                out.add((kind, namespace, name))
    return out


# -- the objects ------------------------------------------------------------------------------------
def compare(item: ItemPreview) -> Mismatch | None:
    """The live object must hold every field of the restored one (server fields aside); a namespace
    must exist (the preview would create it otherwise)."""
    if item.resource == NAMESPACES:
        return Mismatch(item.path, "missing") if item.decision == CREATE else None
    if item.found is None or item.written is None:
        return Mismatch(item.path, "missing")
    if item.resource == "serviceaccounts" and item.decision == SKIP:
        return None  # a ServiceAccount is merged into, not replaced: nothing is left to merge
    live, wrote = _comparable(item.found), _comparable(item.written)
    if contains(live, wrote):
        return None
    fields = missing_fields(live, wrote)
    shown = projected(live, wrote)
    diff = unified_diff(item.path, redacted(item.resource, shown), redacted(item.resource, wrote, shown))
    return Mismatch(item.path, "changed", fields, diff)


def projected(live: Any, wrote: Any) -> Any:
    """`live` cut to the fields restoreflow wrote, so a diff shows no server defaults."""
    if isinstance(live, dict) and isinstance(wrote, dict):
        return {k: projected(v, wrote[k]) for k, v in live.items() if k in wrote}
    if isinstance(live, list) and isinstance(wrote, list) and len(live) == len(wrote):
        return [projected(a, b) for a, b in zip(live, wrote, strict=True)]
    return live


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    out = reset_metadata_and_status(clone(obj))
    metadata = out["metadata"]
    metadata.pop("managedFields", None)
    (metadata.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return out


def missing_fields(live: Any, wrote: Any, path: str = "") -> list[str]:
    """The paths of `wrote` that `live` does not hold (the rule of `contains`)."""
    if isinstance(wrote, dict) and isinstance(live, dict):
        out = []
        for key, value in wrote.items():
            sub = f"{path}.{key}" if path else str(key)
            out += missing_fields(live[key], value, sub) if key in live else [sub]
        return out
    if isinstance(wrote, list) and isinstance(live, list) and len(wrote) == len(live):
        return [
            p
            for i, (a, b) in enumerate(zip(live, wrote, strict=True))
            for p in missing_fields(a, b, f"{path}[{i}]")
        ]
    return [] if contains(live, wrote) else [path]


# -- readiness --------------------------------------------------------------------------------------
def _deployment(obj: Mapping[str, Any]) -> bool:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation", 0)
    return bool(
        status.get("observedGeneration", 0) >= generation
        and status.get("availableReplicas", 0) >= spec.get("replicas", 1)
    )


def _statefulset(obj: Mapping[str, Any]) -> bool:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return bool(status.get("readyReplicas", 0) >= spec.get("replicas", 1))


def _daemonset(obj: Mapping[str, Any]) -> bool:
    status = obj.get("status") or {}
    return (
        "desiredNumberScheduled" in status
        and status.get("numberAvailable", 0) >= status["desiredNumberScheduled"]
    )


def _pod(obj: Mapping[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") == "Succeeded" or _condition(obj, "Ready") == "True"


def _claim(obj: Mapping[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") == "Bound"


def _crd(obj: Mapping[str, Any]) -> bool:
    return _condition(obj, "Established") == "True"


def _job(obj: Mapping[str, Any]) -> bool:
    """Complete, or running (a Job may run for hours); Failed is not ready."""
    if _condition(obj, "Failed") == "True":
        return False
    return _condition(obj, "Complete") == "True" or (obj.get("status") or {}).get("active", 0) > 0


READY = {
    "Deployment": _deployment,
    "StatefulSet": _statefulset,
    "DaemonSet": _daemonset,
    "Pod": _pod,
    "PersistentVolumeClaim": _claim,
    "CustomResourceDefinition": _crd,
    "Job": _job,
}


def _condition(obj: Mapping[str, Any], kind: str) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None


def _wait_ready(
    cluster: Cluster,
    items: list[ItemPreview],
    timeout: float,
    result: Verification,
    cancel: threading.Event | None,
) -> None:
    """Poll the pending workloads until each is ready or the timeout passes."""
    result.ready_checked = len(items)
    pending = {item.path: item for item in items}
    last: dict[str, dict[str, Any] | None] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for path, item in list(pending.items()):
            try:
                obj = cluster.get(item.resource, item.name, item.namespace or None)
            except (ApiError, ConnectionFault) as error:
                obj = {
                    "status": {"conditions": [{"type": "Readable", "status": "False", "message": str(error)}]}
                }
            last[path] = obj
            if obj is not None and READY[item.kind.rpartition("/")[2]](obj):
                del pending[path]
        if not pending or time.monotonic() >= deadline or (cancel and cancel.is_set()):
            break
        (cancel or threading.Event()).wait(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
    for path, item in pending.items():
        result.not_ready.append(_not_ready(cluster, item, last.get(path)))


def _not_ready(cluster: Cluster, item: ItemPreview, obj: Mapping[str, Any] | None) -> NotReady:
    if obj is None:
        return NotReady(item.path, "not found")
    conditions = [
        {k: c.get(k) for k in ("type", "status", "reason", "message") if c.get(k) is not None}
        for c in (obj.get("status") or {}).get("conditions") or []
    ]
    failing = [
        c for c in conditions if c.get("status") != "True" or c.get("reason") == "ProgressDeadlineExceeded"
    ]
    events = _events(cluster, item)
    reason = "; ".join(
        f"{c['type']}={c['status']}" + (f" {c['reason']}: {c.get('message', '')}" if c.get("reason") else "")
        for c in failing
    )
    if not reason:
        reason = _status_line(obj) or "no status reported"
    return NotReady(item.path, reason, conditions, events)


def _status_line(obj: Mapping[str, Any]) -> str:
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    if "phase" in status:
        return f"phase {status['phase']}"
    if "replicas" in spec:
        available = status.get("availableReplicas", status.get("readyReplicas", 0))
        return f"{available}/{spec['replicas']} replicas available"
    return ""


def _events(cluster: Cluster, item: ItemPreview) -> list[str]:
    """The warning and normal Events of the object and of what it owns by name (its pods, replica sets)."""
    if not item.namespace:
        return []
    try:
        events = cluster.list("events", item.namespace)
    except (ApiError, ConnectionFault):
        return []
    name = item.name
    related = [
        e
        for e in events
        if (e.get("involvedObject") or {}).get("name", "") == name
        or (e.get("involvedObject") or {}).get("name", "").startswith(f"{name}-")
    ]
    related.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [f"{e.get('type', 'Normal')} {e.get('reason', '')}: {e.get('message', '')}" for e in related]


# -- the phase ---------------------------------------------------------------------------------------
def verify_restore(ctx: RestoreContext) -> Verification | None:
    """The verify phase of a restore: each problem becomes an error of the restore (so it ends
    PartiallyFailed, with the reason in its results, describe and record); None if it could not run."""
    if ctx.verification is not None:
        return ctx.verification
    ctx.set_phase(step="verify")
    settings = ctx.plan.spec.verify or Verify()
    try:
        result = verify(
            ctx.plan,
            restore_name=ctx.name,
            backup_name=ctx.backup_name,
            resource_list=ctx.restored.resource_list(),
            readiness=settings.workloads,
            timeout=settings.timeout,
            cancel=ctx.cancel,
            uid=ctx.uid,
        )
    except ValidationFailed as failed:
        ctx.results.add_velero_error(f"verification could not run: {failed}")
        return None
    for problem in result.problems():
        ctx.results.add_velero_error(problem)
    if not result.ok:
        ctx.results.add_velero_error(result.reason)
    ctx.verification = result
    ctx.log.info("restore %s verified: %s", ctx.name, result.reason or "passed")
    ctx.report_progress(force=True)
    return result
