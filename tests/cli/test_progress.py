"""The live display's reading of a restore's status document."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from restoreflow.backup import BackupStorage
from restoreflow.cli.progress import RestoreProgress, Snapshot
from restoreflow.describe import byte_size

MIB = 1024 * 1024

RUNNING = {
    "phase": "InProgress",
    "progress": {"totalItems": 19, "itemsRestored": 9},
    "stepProgress": {
        "step": "restore",
        "groups": {"namespaces": {"done": 1, "total": 1}, "pods": {"done": 1, "total": 2}},
        "volumes": {"done": 0, "total": 1},
        "bytes": {"done": 5 * MIB, "total": 10 * MIB},
    },
}


def test_a_running_restore_reads_as_phase_step_items_and_groups() -> None:
    snap = Snapshot.of(RUNNING)
    assert snap.line() == "InProgress (restore): 9/19 items, 0/1 volumes, 5.0 MiB of 10.0 MiB"
    assert snap.groups == {"namespaces": (1, 1), "pods": (1, 2)}


def test_a_completed_restore_shows_every_group_done() -> None:
    final = Snapshot.of({"phase": "Completed", "progress": {"totalItems": 18, "itemsRestored": 18}})
    shown = final.after(Snapshot.of(RUNNING))
    assert shown.line() == "Completed: 18/18 items, 1/1 volumes, 10.0 MiB of 10.0 MiB"
    assert shown.groups == {"namespaces": (1, 1), "pods": (2, 2)}


def test_a_failed_restore_shows_how_far_its_groups_got() -> None:
    final = Snapshot.of({"phase": "Failed", "progress": {"totalItems": 19, "itemsRestored": 9}})
    shown = final.after(Snapshot.of(RUNNING))
    assert shown.groups == {"namespaces": (1, 1), "pods": (1, 2)}
    assert shown.line() == "Failed: 9/19 items, 0/1 volumes, 5.0 MiB of 10.0 MiB"


def test_bytes_read_in_binary_units() -> None:
    assert [byte_size(n) for n in (0, 1023, 1024, 10 * MIB + MIB // 2, 3 * 1024**5)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "10.5 MiB",
        "3.0 PiB",
    ]


def test_the_live_display_draws_a_bar_for_the_bytes(tmp_path: Path) -> None:
    """The rich display (a terminal's), drawn from a status document in a storage location."""
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    storage.restores.write_status("r1", {"metadata": {"name": "r1"}, "status": RUNNING})
    display = RestoreProgress(storage, "r1", interval=60)
    display.stop()
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(display._render())
    screen = console.export_text()
    assert "InProgress (restore): 9/19 items, 0/1 volumes, 5.0 MiB of 10.0 MiB" in screen
    assert [line.split()[0] for line in screen.splitlines()[1:]] == ["namespaces", "pods", "volumes", "bytes"]
    assert screen.splitlines()[-1].endswith("5.0 MiB/10.0 MiB")
