"""What a restore would do, item by item, decided by the restore's own pipeline against a dry-run cluster.

validate, fetch and prepare run as for a restore; then every group runs through `restore_group` with
the cluster wrapped in `DryRunCluster` (every create and patch is sent with `dryRun=All`, so the API
server's admission answers: invalid objects, quotas, ports already allocated, terminating namespaces)
and an observer that records, per item, the transforms, the writes and the messages. Nothing is
written to the cluster or the storage location. A restore run right after does what the preview says.
"""

from __future__ import annotations

import difflib
import io
import itertools
import logging
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ruamel.yaml import YAML

from restoreflow.cluster import ResourceInfo
from restoreflow.plan.model import NON_RESTORABLE_RESOURCES, RestorePlan
from restoreflow.restore.context import RestoreContext, fetched, prepared
from restoreflow.restore.dry_run import DryRunCluster
from restoreflow.restore.metadata import clone, reset_metadata_and_status, resource_key
from restoreflow.restore.patches import apply_merge_patch
from restoreflow.restore.phases import _restorer, fetch, prepare, restore_group, validate
from restoreflow.restore.results import ItemKey, Results
from restoreflow.restore.selection import NAMESPACES, Filters

CREATE, SKIP, SKIP_WARNING, UPDATE = "create", "skip", "skip-warning", "update"
RENAME, PROVISION, EXCLUDED, FAIL = "rename", "provision", "excluded", "fail"
DECISIONS = (CREATE, UPDATE, RENAME, PROVISION, SKIP, SKIP_WARNING, FAIL, EXCLUDED)
REDACTED = "<redacted>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass
class Transform:
    """One step that changed the item: an action, the namespace mapping, resource modifiers..."""

    step: str
    changed: list[str]  # the fields it changed, "spec.template.spec.containers[0].image"


@dataclass
class ItemPreview:
    """What the restore would do with one item of the backup."""

    resource: str  # the group-resource, "deployments.apps"
    namespace: str  # the target namespace ("" for cluster-scoped)
    name: str  # the name in the target
    decision: str  # one of DECISIONS
    reason: str = ""
    kind: str = ""  # "<apiVersion>/<Kind>", the restore's resource-list key
    action: str | None = None  # what the restore records: created, updated, skipped, failed
    checked: bool = True  # the API server judged the write (server-side dry run)
    patch: dict[str, Any] | None = None  # the merge patch an update would send
    transforms: list[Transform] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    live: dict[str, Any] | None = field(default=None, repr=False)  # redacted, without server fields
    desired: dict[str, Any] | None = field(default=None, repr=False)  # redacted: what would be written
    found: dict[str, Any] | None = field(default=None, repr=False)  # the live object as read (verify)
    written: dict[str, Any] | None = field(default=None, repr=False)  # the body the create would send

    @property
    def path(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.resource}/{where}"

    def diff(self) -> str:
        """A unified diff, live object -> what would be written (Secret values redacted)."""
        if self.desired is None or self.decision not in (CREATE, RENAME, UPDATE, SKIP_WARNING):
            return ""
        return unified_diff(self.path, self.live, self.desired)

    def to_dict(self, *, diff: bool = False) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("live", "desired", "found", "written")}
        if diff:
            out["diff"] = self.diff()
        return out


@dataclass
class Preview:
    """The whole preview: one entry per item of the backup, in restore order, and the restore-wide results."""

    name: str
    backup_name: str
    items: list[ItemPreview]
    results: dict[str, Any]  # Velero's {"warnings": ..., "errors": ...} as the restore would report them

    def summary(self) -> dict[str, dict[str, int]]:
        """resource -> decision -> count."""
        counts: dict[str, Counter[str]] = {}
        for item in self.items:
            counts.setdefault(item.resource, Counter())[item.decision] += 1
        return {r: {d: c[d] for d in DECISIONS if c[d]} for r, c in counts.items()}

    def totals(self) -> dict[str, int]:
        counts = Counter(item.decision for item in self.items)
        return {d: counts[d] for d in DECISIONS if counts[d]}

    def resource_list(self) -> dict[str, list[str]]:
        """The restore record's resource list this restore would write (`RestoredItems.resource_list`)."""
        listing: dict[str, list[str]] = {}
        for item in self.items:
            if item.action:
                where = f"{item.namespace}/{item.name}" if item.namespace else item.name
                listing.setdefault(item.kind, []).append(f"{where}({item.action})")
        return {k: sorted(v) for k, v in sorted(listing.items())}

    @property
    def rejected(self) -> list[ItemPreview]:
        """Items the API server (or the pipeline) refused: the restore would fail them."""
        return [item for item in self.items if item.decision == FAIL]

    def to_dict(self, *, details: bool = True, diff: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "backup": self.backup_name,
            "totals": self.totals(),
            "summary": self.summary(),
            "results": self.results,
        }
        if details or diff:
            out["items"] = [item.to_dict(diff=diff) for item in self.items]
        return out


def preview(
    plan: RestorePlan,
    *,
    restore_name: str,
    backup_name: str | None = None,
    cancel: threading.Event | None = None,
    uid: str | None = None,
) -> Preview:
    """Validate, fetch, prepare, then decide every item against server-side dry runs; `uid` is that
    of the restore to preview again (names some actions derive from it).

    Raises ValidationFailed (nothing written) when the restore could not start."""
    ctx = validate(plan, restore_name=restore_name, backup_name=backup_name, cancel=cancel, dry_run=True)
    ctx.uid = uid or ctx.uid
    try:
        fetch(ctx)
        groups = prepare(ctx)
        observer = Observer(ctx)
        # a DryRunCluster answers every call the restore makes of a Cluster
        ctx.cluster = DryRunCluster(ctx.cluster, observer.write, observer.unchecked, observer.read)  # type: ignore[assignment]
        ctx.results = ObservedResults(observer, ctx.results)
        _restorer(ctx).observer = observer
        for group in groups:
            restore_group(ctx, group)
        selected = {(g.resource, ref.namespace, ref.name) for g in groups for ref in g.items}
        items = observer.previews(groups) + _excluded(ctx, selected)
        return Preview(ctx.name, ctx.backup_name, items, ctx.results.to_dict())
    finally:
        ctx.close()


# -- watching the pipeline --------------------------------------------------------------------------
@dataclass
class _Trace:
    """What one item's restore call did (filled by the observer, the dry-run cluster and the results)."""

    resource: str
    namespace: str
    source_namespace: str
    source_name: str
    key: ItemKey
    stages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    live: dict[str, Any] | None = None
    unchecked: str = ""
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Observer:
    """The ItemRestorer's observer: a trace per item, found through the thread that restores it."""

    def __init__(self, ctx: RestoreContext) -> None:
        self.ctx = ctx
        self.traces: dict[ItemKey, _Trace] = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        ctx.log.addHandler(_Notes(self))

    def _current(self) -> _Trace | None:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else None

    # ItemObserver
    def begin(self, obj: dict[str, Any], group_resource: str, target_namespace: str) -> None:
        metadata = obj.get("metadata") or {}
        name = metadata.get("name", "")
        key = ItemKey(resource_key(obj), target_namespace, name)
        trace = _Trace(group_resource, target_namespace, metadata.get("namespace") or "", name, key)
        self._local.__dict__.setdefault("stack", []).append(trace)

    def stage(self, name: str, obj: dict[str, Any]) -> None:
        """A snapshot when the step changed the object (comparing is far cheaper than copying)."""
        trace = self._current()
        if trace is not None and not (trace.stages and trace.stages[-1][1] == obj):
            trace.stages.append((name, clone(obj)))

    def end(self) -> None:
        trace = self._local.stack.pop()
        with self._lock:
            self.traces.setdefault(trace.key, trace)  # a second call for a claimed item adds nothing

    # DryRunCluster callbacks
    def write(self, verb: str, info: ResourceInfo, name: str, namespace: str, body: Any) -> None:
        trace = self._current()
        if trace is not None and info.group_resource == trace.resource:
            (trace.creates if verb == "create" else trace.patches).append(body)  # never changed after

    def read(self, info: ResourceInfo, name: str, namespace: str, obj: dict[str, Any]) -> None:
        trace = self._current()
        if trace is not None and info.group_resource == trace.resource and namespace == trace.namespace:
            trace.live = obj

    def unchecked(self, reason: str) -> None:
        trace = self._current()
        if trace is not None:
            trace.unchecked = reason

    def message(self, level: str, text: str) -> None:
        trace = self._current()
        if trace is not None:
            (trace.warnings if level == "warning" else trace.errors).append(text)

    # the result
    def previews(self, groups: list[Any]) -> list[ItemPreview]:
        """One entry per selected item, in restore order; namespaces made on demand come first."""
        out = [self._namespace(key) for key, _ in self.ctx.restored.items() if key.resource == "v1/Namespace"]
        shown = {(i.namespace, i.name) for i in out}
        by_source = {(t.resource, t.source_namespace, t.source_name): t for t in self.traces.values()}
        for group in groups:
            for ref in sorted(group.items, key=lambda r: (r.namespace, r.name)):
                if group.resource == NAMESPACES:
                    target = self.ctx.target_namespace(ref.name)
                    if ("", target) not in shown:
                        out.append(ItemPreview(NAMESPACES, "", target, SKIP, "exists", "v1/Namespace"))
                    continue
                trace = by_source.get((group.resource, ref.namespace, ref.name))
                out.append(self._item(trace) if trace else _unread(self.ctx, group.resource, ref))
        return out

    def _namespace(self, key: ItemKey) -> ItemPreview:
        """A namespace the restore would create (its dry-run create was judged by the server)."""
        return ItemPreview(NAMESPACES, "", key.name, CREATE, "", key.resource, "created")

    def _item(self, trace: _Trace) -> ItemPreview:
        status = self.ctx.restored.get(trace.key)
        action = status.action if status else None
        decision, reason = self._decision(trace, action, bool(status and status.exists))
        name = trace.creates[-1]["metadata"].get("name", trace.key.name) if trace.creates else trace.key.name
        item = ItemPreview(
            resource=trace.resource,
            namespace=trace.namespace,
            name=name,
            decision=decision,
            reason=reason,
            kind=trace.key.resource,
            action=action,
            checked=not trace.unchecked and bool(trace.creates or trace.patches),
            patch=redacted(trace.resource, trace.patches[0])
            if decision == UPDATE and trace.patches
            else None,
            transforms=_transforms(trace.stages),
            warnings=trace.warnings,
            errors=trace.errors,
        )
        item.live, item.desired = _diff_pair(trace, decision)
        item.found, item.written = trace.live, (trace.creates[-1] if trace.creates else None)
        return item

    def _decision(self, trace: _Trace, action: str | None, exists: bool) -> tuple[str, str]:
        ctx, pv = self.ctx, trace.resource == "persistentvolumes"
        if trace.errors and not exists:
            return FAIL, trace.errors[0]
        if action == "created":
            if pv and trace.source_name in ctx.renamed_pvs:
                return RENAME, f"a PV named {trace.source_name} exists: restored as a clone"
            return CREATE, trace.unchecked
        if action == "updated" and trace.resource == "serviceaccounts":
            return UPDATE, "exists: the backup's secrets, pull secrets, labels and annotations merged in"
        if action == "updated":
            return UPDATE, "exists, differs: patched (existingResourcePolicy: update)"
        if exists and trace.warnings:
            return SKIP_WARNING, trace.warnings[0]
        if exists:
            return SKIP, "exists, identical"
        if pv and trace.source_name in ctx.pvs_to_provision:
            return PROVISION, "dynamically provisioned for its claim"
        if trace.errors:
            return FAIL, trace.errors[0]
        return SKIP, (trace.warnings or trace.notes or ["not restored"])[0]


class _Notes(logging.Handler):
    """The restore's info lines about an item (why it is skipped) go to the item's trace."""

    def __init__(self, observer: Observer) -> None:
        super().__init__(logging.INFO)
        self.observer = observer

    def emit(self, record: logging.LogRecord) -> None:
        trace = self.observer._current()
        if trace is not None and record.levelno == logging.INFO:
            trace.notes.append(record.getMessage())


class ObservedResults(Results):
    """The restore's results, each message also given to the item being restored when it was added."""

    def __init__(self, observer: Observer, earlier: Results) -> None:
        super().__init__(observer.ctx.log)
        self.observer = observer
        self.warnings, self.errors = earlier.warnings, earlier.errors

    def _emit(self, level: str, namespace: str | None, message: str) -> None:
        self.observer.message(level, message)
        super()._emit(level, namespace, message)


# -- what was not selected --------------------------------------------------------------------------
def _excluded(ctx: RestoreContext, selected: set[tuple[str, str, str]]) -> list[ItemPreview]:
    """Every item of the backup that prepare left out, with the filter that left it out."""
    filters = prepared(ctx).filters
    out = []
    for resource, by_namespace in sorted(fetched(ctx).archive.inventory.items()):
        for namespace, names in sorted(by_namespace.items()):
            for name in names:
                if (resource, namespace, name) in selected:
                    continue
                reason = _exclusion(ctx, filters, resource, namespace, name)
                target = ctx.target_namespace(namespace)
                out.append(ItemPreview(resource, target, name, EXCLUDED, reason, action=None, checked=False))
    return out


def _exclusion(ctx: RestoreContext, filters: Filters, resource: str, namespace: str, name: str) -> str:
    """The first of prepare's filters that refuses the item, named as in the plan."""
    if not filters.include_resource(resource):
        if resource in NON_RESTORABLE_RESOURCES:
            return f"{resource} are never restored"
        return "excludedResources/includedResources"
    if namespace and not filters.include_namespace(resource, namespace):
        return "excludedNamespaces/includedNamespaces"
    if not namespace and not filters.include_cluster_scoped_listing():
        return "includeClusterResources"
    if filters.uses_labels:
        return "orLabelSelectors" if filters.or_selectors else "labelSelector"
    return "not selected"


def _unread(ctx: RestoreContext, resource: str, ref: Any) -> ItemPreview:
    """A selected item whose restore call never began (it could not be read from the archive)."""
    target = ctx.target_namespace(ref.namespace)
    return ItemPreview(resource, target, ref.name, FAIL, "could not be read from the backup", checked=False)


# -- transforms, diffs, redaction -------------------------------------------------------------------
def _transforms(stages: list[tuple[str, dict[str, Any]]]) -> list[Transform]:
    out = []
    for (_, before), (step, after) in itertools.pairwise(stages):
        changed = changed_fields(before, after)
        if changed:
            out.append(Transform(step, changed))
    return out


def changed_fields(before: Any, after: Any, path: str = "") -> list[str]:
    """The dotted paths where `after` differs from `before` (added, removed or changed)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(before.keys() | after.keys(), key=str):
            sub = f"{path}.{key}" if path else str(key)
            out += (
                changed_fields(before.get(key), after.get(key), sub)
                if key in before and key in after
                else [sub]
            )
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for i, (a, b) in enumerate(zip(before, after, strict=True))
            for p in changed_fields(a, b, f"{path}[{i}]")
        ]
    return [] if before == after else [path]


def _diff_pair(trace: _Trace, decision: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    live = reset_metadata_and_status(clone(trace.live)) if trace.live else None
    if live is not None:
        live.get("metadata", {}).pop("managedFields", None)
    desired = trace.creates[-1] if trace.creates else None
    if decision == UPDATE and live is not None and trace.patches:
        desired = apply_merge_patch(live, trace.patches[0])
    if desired is not None and "managedFields" in (desired.get("metadata") or {}):
        metadata = {k: v for k, v in desired["metadata"].items() if k != "managedFields"}
        desired = {**desired, "metadata": metadata}
    return redacted(trace.resource, live), redacted(trace.resource, desired, live)


def redacted(resource: str, obj: Any, other: Mapping[str, Any] | None = None) -> Any:
    """A Secret (or a patch of one) with its values hidden: `<redacted>`, or `<redacted: differs>`
    where `other` holds another value."""
    if resource != "secrets" or not isinstance(obj, dict):
        return obj
    out = clone(obj)
    for key in ("data", "stringData"):
        values = out.get(key)
        if isinstance(values, dict):
            theirs = (other or {}).get(key) or {}
            out[key] = {
                k: (REDACTED if other is None or theirs.get(k) == v else f"{REDACTED[:-1]}: differs>")
                if v is not None
                else None
                for k, v in values.items()
            }
    annotations = (out.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict) and annotations.get(LAST_APPLIED):
        annotations[LAST_APPLIED] = REDACTED
    return out


def unified_diff(label: str, live: Any, desired: Any) -> str:
    """`live` -> `desired` as a unified diff of their YAML (pass them redacted)."""
    before = _yaml(live).splitlines(keepends=True) if live is not None else []
    after = _yaml(desired).splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, f"live/{label}", f"restore/{label}"))


def _yaml(obj: Any) -> str:
    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(obj, stream)
    return stream.getvalue()
