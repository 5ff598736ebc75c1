"""What a restore shows in Prefect: a live progress artifact, summary artifacts and events.

Events let automations notify or chain on restores:

- `restoreflow.restore.started`
- `restoreflow.restore.phase.<phase>` when a phase finishes (`validate`, `fetch`, `prepare`, `restore`,
  `volumes`, `hooks`, `finalize`), with the phase's outcome in the payload
- `restoreflow.restore.finished.<Phase>` with Velero's final phase: `Completed`, `PartiallyFailed`,
  `Failed` or `FailedValidation`

Each names the restore as its resource (`restoreflow.restore.<name>`) and the backup
(`restoreflow.backup.<name>`, role `backup`) and the target (`restoreflow.target.<key>`, role
`target`) as related resources; Prefect adds the flow run, flow and deployment.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.events import emit_event
from prefect.logging import get_run_logger

ACTIONS = ("created", "updated", "skipped", "failed")


def artifact_key(restore_name: str, suffix: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", f"restore-{restore_name}-{suffix}".lower()).strip("-")


class RestoreEvents:
    """Emits the restore's events with its resource and related backup and target."""

    def __init__(self, restore_name: str) -> None:
        self.restore_name = restore_name
        self.backup = ""
        self.target = ""

    def _resource(self) -> dict[str, str]:
        return {
            "prefect.resource.id": f"restoreflow.restore.{self.restore_name}",
            "prefect.resource.name": self.restore_name,
        }

    def _related(self) -> list[dict[str, str]]:
        related = []
        if self.backup:
            related.append(
                {
                    "prefect.resource.id": f"restoreflow.backup.{self.backup}",
                    "prefect.resource.role": "backup",
                    "prefect.resource.name": self.backup,
                }
            )
        if self.target:
            related.append(
                {
                    "prefect.resource.id": f"restoreflow.target.{self.target}",
                    "prefect.resource.role": "target",
                    "prefect.resource.name": self.target,
                }
            )
        return related

    def emit(self, event: str, payload: Mapping[str, Any] | None = None) -> None:
        emit_event(
            event=f"restoreflow.restore.{event}",
            resource=self._resource(),
            related=self._related(),
            payload=dict(payload or {}),
        )


def progress_text(progress: Any) -> str:
    """The progress artifact's description: items, then volumes and their bytes where known."""
    from restoreflow.describe import byte_size

    text = f"{progress.phase}: {progress.items_restored:,} of {progress.total_items:,} items restored"
    if volumes := progress.volumes_planned:
        text += f", {progress.volumes_done} of {volumes} volumes"
    done, total = progress.volume_bytes
    if total:
        text += f", {byte_size(done)} of {byte_size(total)}"
    return text


class ProgressArtifact:
    """A progress artifact fed from the engine's progress callback.

    The engine calls back from its worker threads; the update goes out from a small thread of its
    own (at most once a second) so that no restore worker ever waits on the Prefect API.
    """

    def __init__(self, restore_name: str, interval: float = 1.0) -> None:
        self.artifact_id: UUID = create_progress_artifact(
            progress=0.0,
            key=artifact_key(restore_name, "progress"),
            description=f"Restore {restore_name}: starting",
        )
        self._interval = interval
        self._latest: tuple[float, str] | None = None
        self._sent: tuple[float, str] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the run's settings (API URL) live in context variables
        self._thread = threading.Thread(
            target=context.run, args=(self._loop,), name="restore-progress", daemon=True
        )
        self._thread.start()

    def __call__(self, progress: Any) -> None:
        """The engine's `on_progress`: remember the newest state only."""
        with self._lock:
            self._latest = (progress.percent, progress_text(progress))

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._send()

    def _send(self) -> None:
        with self._lock:
            latest = self._latest
        if latest is None or latest == self._sent:
            return
        try:
            update_progress_artifact(self.artifact_id, progress=latest[0], description=latest[1])
            self._sent = latest
        except Exception as error:  # observability must never fail a restore
            get_run_logger().warning("could not update the progress artifact: %s", error)

    def close(self, final_percent: float | None = None, text: str | None = None) -> None:
        self._stop.set()
        self._thread.join()
        if final_percent is not None:
            with self._lock:
                self._latest = (final_percent, text or "")
        self._send()


def summary_rows(resource_list: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Per resource: how many items were created, updated, skipped and failed (from the resource list)."""
    rows = []
    for gvk in sorted(resource_list):
        counts = dict.fromkeys(ACTIONS, 0)
        for entry in resource_list[gvk]:
            action = entry.rsplit("(", 1)[-1].rstrip(")") if entry.endswith(")") else ""
            if action in counts:
                counts[action] += 1
        rows.append({"resource": gvk, **counts})
    totals = {action: sum(row[action] for row in rows) for action in ACTIONS}
    rows.append({"resource": "total", **totals})
    return rows


def publish_summary(
    restore_name: str,
    *,
    record: Mapping[str, Any],
    resource_list: Mapping[str, Sequence[str]],
    describe_text: str,
    record_url: str,
) -> None:
    """The artifacts of a finished restore: per-resource table, describe output, link to the record."""
    status = record.get("status") or {}
    problems = f"{status.get('warnings') or 0} warnings, {status.get('errors') or 0} errors"
    create_table_artifact(
        table=summary_rows(resource_list),
        key=artifact_key(restore_name, "summary"),
        description=f"Restore {restore_name}: {status.get('phase', '')}, {problems}",
    )
    create_markdown_artifact(
        markdown=f"# Restore {restore_name}\n\n```\n{describe_text}```\n\nRecord: <{record_url}>\n",
        key=artifact_key(restore_name, "describe"),
        description=f"restoreflow restore describe {restore_name} --details",
    )
    if not record_url:
        return
    create_link_artifact(
        link=record_url,
        link_text=f"restore record {restore_name}",
        key=artifact_key(restore_name, "record"),
        description="Where the restore's status, results, logs and resource list are kept",
    )
