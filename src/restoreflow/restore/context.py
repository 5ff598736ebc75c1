"""The state of one restore, shared by its phases (and readable by actions as a `RestoreView`)."""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from restoreflow.plan.model import RestorePlan
from restoreflow.restore.results import RestoredItems, Results

if TYPE_CHECKING:
    from restoreflow.backup import BackupArchive, BackupRecord, BackupStorage
    from restoreflow.cluster import Cluster
    from restoreflow.restore.hooks import HookRegistry
    from restoreflow.restore.items import ItemRestorer
    from restoreflow.restore.outcomes import GroupOutcome
    from restoreflow.restore.record import RestoreResult
    from restoreflow.restore.resource_modifiers import ResourceModifiers
    from restoreflow.restore.selection import Filters, Resolver, ResourceGroup
    from restoreflow.restore.verify import Verification
    from restoreflow.restore.volume_pod_restores import PodVolumeTracker

T = TypeVar("T")

PROGRESS_INTERVAL = 1.0  # seconds between on_progress calls (Velero patches progress once a second)
STATUS_INTERVAL = 5.0  # seconds between status documents written to the storage location


@dataclass
class ResourceProgress:
    total: int = 0
    done: int = 0


@dataclass
class Progress:
    """What a watcher sees at any time (a copy is handed to `on_progress`)."""

    phase: str = (
        "New"  # Velero's phase: New, InProgress, Completed, PartiallyFailed, Failed, FailedValidation
    )
    step: str = ""  # the engine phase running: validate, fetch, prepare, restore, volumes, hooks, finalize
    total_items: int = 0
    items_restored: int = 0
    per_resource: dict[str, ResourceProgress] = field(default_factory=dict)
    volumes_total: int = 0  # pod volume restores created so far (grows while pods are restored)
    volumes_done: int = 0
    volumes_expected: int = 0  # pod volume backups of the selected pods, known after prepare
    # Volume data (done, total bytes) where reported: PodVolumeRestores' and data movers' progress.
    pod_volume_bytes: tuple[int, int] = (0, 0)
    data_mover_bytes: tuple[int, int] = (0, 0)

    def snapshot(self) -> Progress:
        return replace(self, per_resource={k: replace(v) for k, v in self.per_resource.items()})

    @property
    def volume_bytes(self) -> tuple[int, int]:
        """Bytes of volume data restored, of the total reported so far (0, 0 when nothing reports)."""
        pods, movers = self.pod_volume_bytes, self.data_mover_bytes
        return pods[0] + movers[0], pods[1] + movers[1]

    @property
    def volumes_planned(self) -> int:
        """The volumes in the total: those expected after prepare (more only if a pod brought more)."""
        return max(self.volumes_total, self.volumes_expected)

    @property
    def percent(self) -> float:
        """Items and volumes done, of the total fixed by prepare: it only moves forward."""
        total = self.total_items + self.volumes_planned
        done = min(self.items_restored, self.total_items) + self.volumes_done
        return min(100.0, 100.0 * done / total) if total else 0.0


@dataclass
class HookStatus:
    """Velero's status.hookStatus counters."""

    attempted: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, *, failed: bool) -> None:
        with self.lock:
            self.attempted += 1
            self.failed += int(failed)


@dataclass
class BackupContents:
    """The opened backup: the archive (inventory and items) and the side files."""

    archive: BackupArchive
    volume_info: list[dict[str, Any]] = field(default_factory=list)
    volume_snapshots: list[dict[str, Any]] = field(default_factory=list)
    pod_volume_backups: list[dict[str, Any]] = field(default_factory=list)
    csi_volume_snapshots: list[dict[str, Any]] = field(default_factory=list)
    csi_volume_snapshot_contents: list[dict[str, Any]] = field(default_factory=list)
    csi_volume_snapshot_classes: list[dict[str, Any]] = field(default_factory=list)
    item_operations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Prepared:
    """What prepare resolved: the resources the target serves, what the plan selects, the groups in order."""

    resolver: Resolver
    filters: Filters
    groups: tuple[ResourceGroup, ...]


@dataclass
class PhaseWork:
    """What the later phases have done, so that a phase called again (a retried task) does not repeat it."""

    volumes_done: bool = False
    hooks_done: bool = False
    operations_done: bool = False
    data_upload_results_deleted: bool = False
    pod_volume_progress_logged: float | None = None  # monotonic time of the last progress line
    pod_volume_tracker: PodVolumeTracker | None = None
    csi_claims: list[tuple[str, str, str]] = field(default_factory=list)  # (namespace, claim, snapshot)
    operations_started: dict[tuple[str, str], float] = field(default_factory=dict)  # (action, op id)
    exec_hooks: HookRegistry | None = None


class _LogBuffer(logging.Handler):
    """Collects the restore's log lines (logrus text format, like Velero) for `restore-<R>-logs.gz`."""

    def __init__(self, restore_name: str) -> None:
        super().__init__(logging.DEBUG)
        self.restore_name = restore_name
        self.buffer = io.StringIO()
        self._write_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        level = {"WARNING": "warning", "CRITICAL": "fatal"}.get(record.levelname, record.levelname.lower())
        text = record.getMessage().replace("\\", "\\\\").replace('"', '\\"')
        line = f'time="{stamp}" level={level} msg="{text}" restore={self.restore_name}\n'
        with self._write_lock:
            self.buffer.write(line)

    def text(self) -> str:
        with self._write_lock:
            return self.buffer.getvalue()


class NotYet(AttributeError):
    """What a phase makes was asked for before that phase ran: a bug in the caller, said plainly."""


def opened(value: T | None) -> T:
    """What validate opened: the storage location, the backup record, the cluster."""
    if value is None:
        raise NotYet("the restore was not validated: validate() opens the backup and the cluster")
    return value


def fetched(ctx: RestoreContext) -> BackupContents:
    """The backup fetch opened."""
    if ctx.contents is None:
        raise NotYet("the backup was not fetched: fetch() comes before prepare and restore")
    return ctx.contents


def prepared(ctx: RestoreContext) -> Prepared:
    """What prepare resolved."""
    if ctx.prepared is None:
        raise NotYet("the restore was not prepared: prepare() comes before the restore phase")
    return ctx.prepared


def restore_uid(name: str, flow_run_id: str | None) -> str:
    """The restore's uid: new per restore, but the same for every attempt of one flow run, so that a
    retried run finds what earlier attempts made under it (its PodVolumeRestores, the VolumeSnapshots
    named from the uid) instead of making them again."""
    if flow_run_id:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"restoreflow:{flow_run_id}/{name}"))
    return str(uuid.uuid4())


class RestoreContext:
    """Everything the phases share. Attribute names are a contract with volumes, hooks and the flow."""

    def __init__(
        self,
        plan: RestorePlan,
        *,
        name: str,
        cancel: threading.Event | None = None,
        flow_run_id: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.uid = restore_uid(name, flow_run_id)
        self.labels = dict(labels or {})  # the restore's own labels, in every status document
        self.plan = plan
        self.flow_run_id = flow_run_id
        self.cancel = cancel or threading.Event()
        self.on_progress = on_progress
        self.backup_name: str = plan.spec.source.backup_name or ""
        self.schedule_name: str | None = plan.spec.source.schedule_name
        self.backup: dict[str, Any] = {}
        # validate: the storage location, the backup and the target cluster, opened
        self.backup_record: BackupRecord | None = None
        self.storage: BackupStorage | None = None
        self._cluster: Cluster | None = None  # see `cluster`
        self.modifiers: ResourceModifiers | None = None  # the resource modifier rules, read once
        self.contents: BackupContents | None = None  # fetch
        self.prepared: Prepared | None = None  # prepare
        self.restorer: ItemRestorer | None = None  # restore: made for the first group
        self.outcomes: dict[str, GroupOutcome] = {}  # restore: each group's outcome, by resource
        self.work = PhaseWork()  # volumes, hooks, item operations
        self.result: RestoreResult | None = None  # finalize
        self.dry_run = False  # a preview: writes are server-side dry runs, nothing goes to storage
        self.verification: Verification | None = None  # after the verify phase
        self._log_buffer = _LogBuffer(name)
        # one logger per attempt: the uid is shared by a flow run's attempts, and a closed one is disabled
        self.log = logging.getLogger(f"restoreflow.restore.run.{name}.{uuid.uuid4().hex[:8]}")
        self.log.setLevel(logging.INFO)
        self.log.addHandler(self._log_buffer)
        self.results = Results(self.log)
        self.restored = RestoredItems()
        self.renamed_pvs: dict[str, str] = {}
        self.pvs_to_provision: set[str] = set()
        self.hook_status = HookStatus()
        self.item_operations: list[dict[str, Any]] = []
        self.restore_volume_info: list[dict[str, Any]] = []  # <R>-volumeinfo.json.gz entries
        self.pod_volume_restore_counts = {"attempted": 0, "completed": 0, "failed": 0}
        self.progress = Progress()
        self.start_timestamp: datetime | None = None
        self.completion_timestamp: datetime | None = None
        self.validation_errors: list[str] = []
        self.failure_reason: str = ""
        self.lock = threading.RLock()
        self._last_progress = 0.0
        self._last_status = 0.0

    # -- RestoreView -----------------------------------------------------------------------------
    @property
    def backup_contents(self) -> BackupContents | None:
        return self.contents

    @property
    def cluster(self) -> Cluster:
        """The target cluster validate connected to."""
        return opened(self._cluster)

    @cluster.setter
    def cluster(self, cluster: Cluster) -> None:
        self._cluster = cluster

    @property
    def connected(self) -> bool:
        """Whether validate got as far as the target cluster."""
        return self._cluster is not None

    # -- shared by the phases --------------------------------------------------------------------
    def target_namespace(self, source_namespace: str) -> str:
        """The namespace an item of `source_namespace` is restored into (namespaceMapping)."""
        return self.plan.spec.target_namespace(source_namespace)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def deadline(self, seconds: float) -> float:
        """A monotonic deadline `seconds` from now (for bounded waits)."""
        return time.monotonic() + seconds

    @staticmethod
    def remaining(deadline: float) -> float:
        return max(0.0, deadline - time.monotonic())

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds` unless cancelled; True when cancelled."""
        return self.cancel.wait(seconds)

    def logs(self) -> str:
        return self._log_buffer.text()

    def close(self) -> None:
        """Release the archive's work folder, the API connections and the log (nothing is written)."""
        if self.contents is not None and self.contents.archive is not None:
            self.contents.archive.close()
        if self._cluster is not None:
            self._cluster.close()
        self.log.removeHandler(self._log_buffer)
        self.log.disabled = True  # a worker still finishing after an interruption has no log to write to

    def set_phase(self, phase: str | None = None, step: str | None = None) -> None:
        """Record a change of Velero phase or engine step and tell the watcher at once."""
        with self.lock:
            self.progress.phase = phase or self.progress.phase
            self.progress.step = step or self.progress.step
        self.report_progress(force=True)

    def report_progress(self, *, force: bool = False) -> None:
        """Call on_progress at most once per second (and always when forced)."""
        now = time.monotonic()
        with self.lock:
            if not force and now - self._last_progress < PROGRESS_INTERVAL:
                return
            self._last_progress = now
            snapshot = self.progress.snapshot()
            write_status = (
                self.storage is not None
                and not self.dry_run
                and (force or now - self._last_status >= STATUS_INTERVAL)
            )
            if write_status:
                self._last_status = now
        if self.on_progress is not None:
            try:
                self.on_progress(snapshot)
            except Exception as error:  # a watcher must never break the restore
                self.log.warning("progress callback failed: %s", error)
        if write_status:
            self._write_status()

    def _write_status(self) -> None:
        from restoreflow.restore.record import status_document

        try:
            opened(self.storage).restores.write_status(self.name, status_document(self, self.progress.phase))
        except Exception as error:  # progress is best effort, like Velero's status patches
            self.log.warning("could not write the restore status: %s", error)

    def count_done(self, resource: str) -> None:
        with self.lock:
            self.progress.items_restored += 1
            entry = self.progress.per_resource.setdefault(resource, ResourceProgress())
            entry.done += 1
        self.report_progress()
