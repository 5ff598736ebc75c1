"""`restore create --wait`: one live display per restore, then its outcome and where to look.

The display reads the restore's status document in the storage location, so it looks the same
whether the flow runs in this process, in the background or on a worker: the phase, the engine
step, items done of total per resource group, volumes and their bytes where the node agent or
data mover reports them, elapsed time. On a terminal it is a rich
live display; otherwise one plain line each time something changes.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from restoreflow.describe import byte_size

FINAL_PHASES = ("Completed", "PartiallyFailed", "Failed", "FailedValidation")


@dataclass(frozen=True)
class Snapshot:
    """What the status document says about a running restore."""

    phase: str = "New"
    step: str = ""
    done: int = 0
    total: int = 0
    groups: dict[str, tuple[int, int]] = field(default_factory=dict)
    volumes: tuple[int, int] | None = None
    bytes: tuple[int, int] | None = None  # volume data restored, of the total reported

    @classmethod
    def of(cls, status: dict[str, Any]) -> Snapshot:
        progress = status.get("progress") or {}
        running = status.get("stepProgress") or {}
        volumes, data = running.get("volumes"), running.get("bytes")
        return cls(
            phase=status.get("phase") or "New",
            step=running.get("step") or "",
            done=int(progress.get("itemsRestored") or 0),
            total=int(progress.get("totalItems") or 0),
            groups={k: (int(v["done"]), int(v["total"])) for k, v in (running.get("groups") or {}).items()},
            volumes=(int(volumes["done"]), int(volumes["total"])) if volumes else None,
            bytes=(int(data["done"]), int(data["total"])) if data else None,
        )

    def after(self, earlier: Snapshot) -> Snapshot:
        """A final status has no groups: keep the last ones seen (all done when Completed)."""
        if self.groups or not earlier.groups or self.phase not in FINAL_PHASES:
            return self
        if self.phase != "Completed":
            return replace(self, groups=earlier.groups, volumes=earlier.volumes, bytes=earlier.bytes)
        groups = {name: (total, total) for name, (_, total) in earlier.groups.items()}
        volumes = (earlier.volumes[1], earlier.volumes[1]) if earlier.volumes else None
        data = (earlier.bytes[1], earlier.bytes[1]) if earlier.bytes else None
        return replace(self, groups=groups, volumes=volumes, bytes=data)

    def line(self) -> str:
        text = f"{self.phase}"
        if self.step:
            text += f" ({self.step})"
        text += f": {self.done:,}/{self.total:,} items"
        if self.volumes:
            text += f", {self.volumes[0]}/{self.volumes[1]} volumes"
        if self.bytes:
            text += f", {byte_size(self.bytes[0])} of {byte_size(self.bytes[1])}"
        return text


class RestoreProgress:
    """Polls the status document from a thread and draws it until `stop()`."""

    def __init__(self, storage: Any, name: str, interval: float = 0.25) -> None:
        self.storage, self.name, self.interval = storage, name, interval
        self.started = time.monotonic()
        self.snapshot = Snapshot()
        self._printed = ""
        self._stop = threading.Event()
        self._live: Any = None
        if sys.stdout.isatty():
            from rich.live import Live

            self._live = Live(self._render(), refresh_per_second=4, transient=False)
            self._live.start()
        else:
            print("Waiting for restore to complete.", flush=True)
        self._thread = threading.Thread(target=self._loop, name="restore-progress", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def _poll(self) -> None:
        from restoreflow.backup import BackupError

        try:
            status = self.storage.restores.get(self.name).get("status") or {}
        except BackupError:
            status = None  # not written yet
        if status is not None:
            self.snapshot = Snapshot.of(status).after(self.snapshot)
        if self._live is not None:
            self._live.update(self._render())
        elif (line := self.snapshot.line()) != self._printed:
            self._printed = line
            print(f"{line}  [{self.elapsed()}]", flush=True)

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60:02d}:{seconds % 60:02d}"

    def _render(self) -> Any:
        """The header line, then one bar per resource group (and the volumes, and their bytes)."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        snap = self.snapshot
        header = Text.assemble((f"Restore {self.name}", "bold"), f"  {snap.line()}  {self.elapsed()}")
        rows = [(group, done, total, f"{done:,}/{total:,}") for group, (done, total) in snap.groups.items()]
        if snap.volumes:
            rows.append(("volumes", *snap.volumes, f"{snap.volumes[0]}/{snap.volumes[1]}"))
        if snap.bytes:
            rows.append(("bytes", *snap.bytes, f"{byte_size(snap.bytes[0])}/{byte_size(snap.bytes[1])}"))
        table = Table.grid(padding=(0, 2))
        for group, done, total, text in rows:
            bar = ProgressBar(total=max(total, 1), completed=done, width=24)
            table.add_row(f"  {group}", bar, text)
        return Group(header, table)

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        self._poll()
        if self._live is not None:
            self._live.stop()


def report(storage: Any, name: str, phase: str, run_url: str | None) -> int:
    """The outcome as velero prints it, the counts, and where to look; the exit code."""
    from restoreflow.backup import BackupError

    print(
        f"Restore completed with status: {phase}. You may check for more information using the commands "
        f"`restoreflow restore describe {name}` and `restoreflow restore logs {name}`."
    )
    try:
        status = storage.restores.get(name).get("status") or {}
    except BackupError:
        status = {}
    counts = status.get("counts") or {}
    if counts or status:
        print(
            f"Items: {counts.get('created', 0)} created, {counts.get('updated', 0)} updated, "
            f"{counts.get('skipped', 0)} skipped, {counts.get('failed', 0)} failed; "
            f"warnings: {status.get('warnings', 0)}, errors: {status.get('errors', 0)}"
        )
    for problem in status.get("validationErrors") or []:
        print(f"Validation error: {problem}")
    if status.get("failureReason"):
        print(f"Failure reason: {status['failureReason']}")
    if run_url:
        print(f"Prefect flow run: {run_url}")
    return 0 if phase == "Completed" else 1
