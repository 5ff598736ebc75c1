"""The live display's reading of a restore's status document."""

from __future__ import annotations

from restoreflow.cli.progress import Snapshot

RUNNING = {
    "phase": "InProgress",
    "progress": {"totalItems": 19, "itemsRestored": 9},
    "stepProgress": {
        "step": "restore",
        "groups": {"namespaces": {"done": 1, "total": 1}, "pods": {"done": 1, "total": 2}},
        "volumes": {"done": 0, "total": 1},
    },
}


def test_a_running_restore_reads_as_phase_step_items_and_groups() -> None:
    snap = Snapshot.of(RUNNING)
    assert snap.line() == "InProgress (restore): 9/19 items, 0/1 volumes"
    assert snap.groups == {"namespaces": (1, 1), "pods": (1, 2)}


def test_a_completed_restore_shows_every_group_done() -> None:
    final = Snapshot.of({"phase": "Completed", "progress": {"totalItems": 18, "itemsRestored": 18}})
    shown = final.after(Snapshot.of(RUNNING))
    assert shown.line() == "Completed: 18/18 items, 1/1 volumes"
    assert shown.groups == {"namespaces": (1, 1), "pods": (2, 2)}


def test_a_failed_restore_shows_how_far_its_groups_got() -> None:
    final = Snapshot.of({"phase": "Failed", "progress": {"totalItems": 19, "itemsRestored": 9}})
    assert final.after(Snapshot.of(RUNNING)).groups == {"namespaces": (1, 1), "pods": (1, 2)}
