"""A resource group's outcome as plain data, so that a retried run can take it instead of restoring again.

`restore_group` marks where the restore's bookkeeping stood before a group (`mark`) and returns a
`GroupOutcome` carrying what the group added (`changes`): the items it touched with their action, its
warnings and errors, its API retries, its item operations and the volume bookkeeping that later
groups read (PVs left to dynamic provisioning, renamed PVs, claims restored from CSI snapshots).
Keys and messages only, never an object's content: a Secret's data cannot reach a persisted
outcome. `absorb` replays an outcome into another attempt's context, whose counts, results and
resource list then read as if the restore had run once. JSON-serialisable both ways (`to_dict`,
`from_dict`).

The PodVolumeRestores a group's pods started are carried too: the restore's uid is the same for
every attempt of a flow run, so a later attempt's volumes phase finds and waits for them. Not
carried: the exec hooks of a group's pods, which run at most once, in the attempt that created them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from restoreflow.restore import volumes
from restoreflow.restore.context import ResourceProgress
from restoreflow.restore.results import ItemKey, ItemStatus

if TYPE_CHECKING:
    from restoreflow.restore.context import RestoreContext
    from restoreflow.restore.results import Results

FORMAT = 1  # bump when the shape of `changes` changes: older outcomes are then not taken
ACTIONS = ("created", "updated", "skipped", "failed")


@dataclass(frozen=True)
class GroupOutcome:
    """One resource group's counts and, in `changes`, what it added to the restore."""

    resource: str
    items: int
    created: int
    updated: int
    skipped: int
    failed: int
    seconds: float
    changes: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        return (
            f"{self.resource}: {self.created} created, {self.updated} updated, "
            f"{self.skipped} skipped, {self.failed} failed in {self.seconds:.1f}s"
        )

    @property
    def clean(self) -> bool:
        """No failed item and no error: nothing a retry would do differently."""
        return not self.failed and not self.changes.get("errors")

    def to_dict(self) -> dict[str, Any]:
        counts = {a: getattr(self, a) for a in ACTIONS}
        head = {"format": FORMAT, "resource": self.resource, "items": self.items}
        return head | counts | {"seconds": round(self.seconds, 3), "changes": self.changes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupOutcome:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown group outcome format {data.get('format')!r}")
        counts = {a: int(data[a]) for a in ACTIONS}
        return cls(
            data["resource"],
            int(data["items"]),
            **counts,
            seconds=float(data["seconds"]),
            changes=data["changes"],
        )


@dataclass(frozen=True)
class Mark:
    """Where the restore's bookkeeping stood when a group started."""

    items: int
    warnings: dict[str, int]
    errors: dict[str, int]
    retries: dict[str, int]
    operations: int
    volume_info: int
    provisioned: frozenset[str]
    renamed: dict[str, str]
    pod_volumes: frozenset[tuple[str, ...]]
    csi_claims: int


def mark(ctx: RestoreContext) -> Mark:
    results = ctx.results.to_dict()
    with ctx.lock:
        return Mark(
            items=len(ctx.restored),
            warnings=_lengths(results["warnings"]),
            errors=_lengths(results["errors"]),
            retries=dict(ctx.cluster.retry_counts) if ctx.connected else {},
            operations=len(ctx.item_operations),
            volume_info=len(ctx.restore_volume_info),
            provisioned=frozenset(ctx.pvs_to_provision),
            renamed=dict(ctx.renamed_pvs),
            pod_volumes=frozenset(tuple(r) for r in volumes.pod_volume_restores(ctx)),
            csi_claims=len(ctx.work.csi_claims),
        )


def outcome(ctx: RestoreContext, resource: str, size: int, start: Mark, seconds: float) -> GroupOutcome:
    """The group's counts and changes since `start` (every item it started has finished)."""
    finished = [(key, status) for key, status in ctx.restored.items()[start.items :] if status.action]
    counts = Counter(status.action for _, status in finished)
    results = ctx.results.to_dict()
    with ctx.lock:
        changes = {
            "items": _item_tree(finished),
            "absent": [
                _absent(key) for key, status in finished if not status.exists and status.action != "failed"
            ],
            "warnings": _added(results["warnings"], start.warnings),
            "errors": _added(results["errors"], start.errors),
            "retries": _retries_added(ctx, start.retries),
            "operations": ctx.item_operations[start.operations :],
            "volumeInfo": ctx.restore_volume_info[start.volume_info :],
            "provisioned": sorted(ctx.pvs_to_provision - start.provisioned),
            "renamed": {k: v for k, v in ctx.renamed_pvs.items() if start.renamed.get(k) != v},
            "podVolumes": [r for r in volumes.pod_volume_restores(ctx) if tuple(r) not in start.pod_volumes],
            "csiClaims": [list(c) for c in ctx.work.csi_claims[start.csi_claims :]],
        }
    changes = {k: v for k, v in changes.items() if v}
    tally = {a: counts[a] for a in ("created", "updated", "skipped", "failed")}
    return GroupOutcome(resource, size, **tally, seconds=seconds, changes=changes)


def absorb(ctx: RestoreContext, data: dict[str, Any]) -> GroupOutcome:
    """Replay a group's outcome (from `to_dict`) into this context, as if the group had run here."""
    taken = GroupOutcome.from_dict(data)
    changes = taken.changes
    absent = {tuple(key) for key in changes.get("absent", ())}
    for resource, namespaces in changes.get("items", {}).items():
        for namespace, actions in namespaces.items():
            for action, names in actions.items():
                for name in names:
                    status, first = ctx.restored.claim(ItemKey(resource, namespace, name))
                    if first:
                        status.action = action
                        status.exists = action != "failed" and (resource, namespace, name) not in absent
                        status.finish()
    for namespace, pod, name, volume in changes.get("podVolumes", ()):  # waited for in the volumes phase
        volumes.track_pod_volume_restore(ctx, namespace, pod, name, volume)
    with ctx.lock:  # their volume info is written at the end
        ctx.work.csi_claims.extend((str(a), str(b), str(c)) for a, b, c in changes.get("csiClaims", ()))
    _replay(ctx.results, changes.get("warnings", {}), error=False)
    _replay(ctx.results, changes.get("errors", {}), error=True)
    if ctx.connected:
        ctx.cluster.retry_counts.update(changes.get("retries", {}))
    with ctx.lock:
        ctx.item_operations.extend(changes.get("operations", ()))
        ctx.restore_volume_info.extend(changes.get("volumeInfo", ()))
        ctx.pvs_to_provision.update(changes.get("provisioned", ()))
        ctx.renamed_pvs.update(changes.get("renamed", {}))
        ctx.progress.items_restored += taken.items
        progress = ctx.progress.per_resource.setdefault(taken.resource, ResourceProgress(total=taken.items))
        progress.done += taken.items
    return taken


def _item_tree(finished: list[tuple[ItemKey, ItemStatus]]) -> dict[str, dict[str, dict[str, list[str]]]]:
    """Item keys as resource -> namespace -> action -> names: compact, and readable like a resource list."""
    tree: dict[str, dict[str, dict[str, list[str]]]] = {}
    for key, status in finished:
        tree.setdefault(key.resource, {}).setdefault(key.namespace, {}).setdefault(
            str(status.action), []
        ).append(key.name)
    return tree


def _absent(key: ItemKey) -> list[str]:
    """An item that is not in the cluster although it did not fail (a PV left to provisioning, a
    mirror pod): a later group must not wait for it."""
    return [key.resource, key.namespace, key.name]


def _lengths(result: dict[str, Any]) -> dict[str, int]:
    """How many messages each place of a Velero Result (`Result.to_dict()`) holds."""
    lengths = {place: len(result.get(place, ())) for place in ("velero", "cluster")}
    return lengths | {f"ns/{ns}": len(msgs) for ns, msgs in result.get("namespaces", {}).items()}


def _added(result: dict[str, Any], before: dict[str, int]) -> dict[str, Any]:
    """The messages added since `before`, in the Result's own shape."""
    added: dict[str, Any] = {}
    for place in ("velero", "cluster"):
        if new := result.get(place, [])[before.get(place, 0) :]:
            added[place] = new
    namespaces = {
        ns: new
        for ns, msgs in result.get("namespaces", {}).items()
        if (new := msgs[before.get(f"ns/{ns}", 0) :])
    }
    if namespaces:
        added["namespaces"] = namespaces
    return added


def _retries_added(ctx: RestoreContext, before: dict[str, int]) -> dict[str, int]:
    if not ctx.connected:
        return {}
    now = dict(ctx.cluster.retry_counts)
    return {reason: n - before.get(reason, 0) for reason, n in now.items() if n > before.get(reason, 0)}


def _replay(results: Results, messages: dict[str, Any], *, error: bool) -> None:
    """Add the messages again, each one to the restore log too, as the group first added them."""
    velero = results.add_velero_error if error else results.add_velero_warning
    add = results.add_error if error else results.add_warning
    for message in messages.get("velero", ()):
        velero(message)
    for message in messages.get("cluster", ()):
        add("", message)
    for namespace, texts in messages.get("namespaces", {}).items():
        for message in texts:
            add(namespace, message)
