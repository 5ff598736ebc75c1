"""Which process writes a running restore's record, and whether that process still lives.

A restore's status document names its process while it runs (`status.process`: host, PID namespace,
pid and the process's start time, so a reused pid is not mistaken for it). A process killed outright
(`kill -9`, an OOM kill, a power cut) cannot write its record's end: the record would say
`InProgress` forever.
Whoever reads such a record next on the same host sees the process gone and marks the record
`Failed` with the reason, as Velero does with the restores left `InProgress` when its server
restarts. A record from another host (a Kubernetes work pool's pod) is judged by its flow run's
state, when the reader can see it (`FlowRuns`): a run that ended (Crashed, once Prefect's zombie
flow run automation saw its heartbeats stop) leaves no one to finish the record.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any, Protocol

RUNNING_PHASES = ("New", "InProgress")


def process_identity() -> dict[str, Any]:
    """This process, as a running record names it: its PID namespace too, as containers that share
    a host name (`--uts=host`) do not see each other's processes."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _start_ticks(pid), "pidns": _pid_namespace()}


def gone(process: Any) -> bool:
    """True only when the named process surely ended: same host and PID namespace, and no such
    process (or another one since, with the same pid)."""
    if not isinstance(process, dict) or process.get("host") != socket.gethostname():
        return False
    if process.get("pidns") not in (None, _pid_namespace()):  # not to be looked for from here
        return False
    pid = process.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: it exists
        pass
    if _state(pid) == "Z":  # killed, not yet reaped (its parent died too: a worker's flow run)
        return True
    started = process.get("started")
    return started is not None and _start_ticks(pid) not in (None, started)


class FlowRuns(Protocol):
    """What the Prefect layer tells of restores' flow runs (orchestration/crashes.py)."""

    def ended(self, flow_run_id: str) -> str | None:
        """How a flow run ended (`Crashed (its message)`); None while it runs, or when unknown."""

    def record_ended(self, document: dict[str, Any]) -> None:
        """A running record was just marked Failed: its flow run ends too."""


def abandoned(document: dict[str, Any], runs: FlowRuns | None = None) -> str | None:
    """The failure reason to record when a running record's process is gone, or (from another host)
    its flow run ended; None otherwise."""
    status = document.get("status") or {}
    process, phase, flow_run_id = status.get("process"), status.get("phase"), status.get("flowRunId")
    if phase not in RUNNING_PHASES:
        return None
    found = f'found "{phase}" at {datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}'
    if gone(process):
        where = f"pid {process['pid']} on {process['host']}"
        return f"the restoring process ({where}) ended without finishing: {found}"
    if runs is None or not flow_run_id or _here(process):  # a live process here is still at work
        return None
    ended = runs.ended(str(flow_run_id))
    if ended is None:
        return None
    return f"its flow run {flow_run_id} ended {ended} without finishing the restore: {found}"


def _here(process: Any) -> bool:
    """Whether the process could be looked for from here (see `gone`)."""
    return (
        isinstance(process, dict)
        and process.get("host") == socket.gethostname()
        and process.get("pidns") in (None, _pid_namespace())
    )


def mark_failed(document: dict[str, Any], reason: str) -> dict[str, Any]:
    """The record as the dead process would have ended it: Failed, with the reason and an end time."""
    status = dict(document.get("status") or {})
    status.update(phase="Failed", failureReason=reason)
    status.setdefault("completionTimestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    status.pop("stepProgress", None)
    return {**document, "status": status}


def _pid_namespace() -> str | None:
    """This process's PID namespace (Linux: `pid:[4026531836]`), None where unknown."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), None where unknown."""
    try:
        return int(_stat_fields(pid)[19])  # field 22 of stat(5), counted after the command name
    except (OSError, IndexError, ValueError):
        return None


def _state(pid: int) -> str | None:
    """The process's state letter (Linux: R, S, D, Z...), None where unknown."""
    try:
        return _stat_fields(pid)[0].decode()
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def _stat_fields(pid: int) -> list[bytes]:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return stat.read().rsplit(b")", 1)[1].split()
