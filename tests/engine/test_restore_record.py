"""The restore record while a restore runs and when something stops it: labels, log, results, progress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupStorage, RestoreNotFound, sample_backup
from restoreflow.restore import Progress, run_restore
from tests.engine.helpers import make_plan

pytestmark = pytest.mark.sandbox(velero_crds=True)

INTERRUPTED = "interrupted: the restoreflow process running the restore was stopped"


@pytest.fixture
def storage(tmp_path: Path) -> BackupStorage:
    """The demo shop: 19 items in 15 resource groups, one pod with a file-system volume backup."""
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    sample_backup(storage, "demo-backup")
    return storage


def restore(sandbox: Any, storage: BackupStorage, name: str, **kw: Any) -> Any:
    plan = make_plan(sandbox, storage.url, backup="demo-backup", **kw.pop("spec", {}))
    return run_restore(plan, restore_name=name, **kw)


def reading_records(storage: BackupStorage, name: str, seen: list[dict[str, Any]]) -> Callable[..., None]:
    """An on_progress hook that reads the restore's status document as `restore get` would."""

    def read(progress: Progress) -> None:
        with contextlib.suppress(RestoreNotFound):
            seen.append(storage.restores.get(name))

    return read


def ctrl_c_when(condition: Callable[[Progress], bool]) -> Callable[[Progress], None]:
    """An on_progress hook that raises KeyboardInterrupt once, in the main thread, where Ctrl-C lands."""
    pressed: list[bool] = []

    def hook(progress: Progress) -> None:
        if not pressed and threading.current_thread() is threading.main_thread() and condition(progress):
            pressed.append(True)
            raise KeyboardInterrupt

    return hook


def test_labels_are_in_every_status_document_from_the_first_in_progress_one(sandbox, storage):
    seen: list[dict[str, Any]] = []
    labels = {"team": "shop", "drill": "nightly"}
    result = restore(
        sandbox, storage, "labelled", labels=labels, on_progress=reading_records(storage, "labelled", seen)
    )

    assert result.phase == "Completed"
    assert seen[0]["status"]["phase"] == "InProgress"  # the first document written
    assert {"InProgress"} == {document["status"]["phase"] for document in seen}
    assert all(document["metadata"]["labels"] == labels for document in seen)
    assert storage.restores.get("labelled")["metadata"]["labels"] == labels


def test_a_restore_without_labels_has_none_in_its_record(sandbox, storage):
    restore(sandbox, storage, "unlabelled")
    assert "labels" not in storage.restores.get("unlabelled")["metadata"]


def test_invalid_labels_fail_validation_in_the_api_servers_words(sandbox, storage):
    result = restore(sandbox, storage, "bad-labels", labels={"team": "shop web"})

    assert result.phase == "FailedValidation"
    [problem] = result.validation_errors
    assert problem.startswith('metadata.labels: Invalid value: "shop web": a valid label must be')
    assert storage.restores.get("bad-labels")["status"]["phase"] == "FailedValidation"
    assert sandbox.objects("configmaps", "shop") == []


def test_ctrl_c_mid_restore_records_failed_with_the_log_results_and_resources_so_far(sandbox, storage):
    def configmaps_done(progress: Progress) -> bool:
        done = progress.per_resource.get("configmaps")
        return progress.step == "restore" and done is not None and done.done == done.total

    with pytest.raises(KeyboardInterrupt):
        restore(sandbox, storage, "stopped", on_progress=ctrl_c_when(configmaps_done))

    record = storage.restores.get("stopped")
    status = record["status"]
    assert status["phase"] == "Failed" and status["failureReason"] == INTERRUPTED
    assert status["completionTimestamp"] and status["errors"] == 1
    assert status["progress"]["totalItems"] == 19 and 0 < status["progress"]["itemsRestored"] < 19
    logs = storage.restores.logs("stopped")
    for line in (
        'msg="restore stopped of backup demo-backup validated"',
        'msg="prepared 19 items in 15 resource groups"',
        'msg="Velero restore error: interrupted: the restoreflow process',
        'msg="restore stopped finished: Failed"',
    ):
        assert line in logs, logs
    assert storage.restores.results("stopped")["errors"] == {"velero": [INTERRUPTED]}
    resources = storage.restores.resource_list("stopped")
    assert resources["v1/ConfigMap"] == ["shop/web-config(created)"]
    assert "v1/Pod" not in resources  # no group was started after the interruption
    assert sandbox.objects("pods", "shop") == []


def test_ctrl_c_while_validating_does_not_leave_the_record_in_progress(sandbox, storage):
    with pytest.raises(KeyboardInterrupt):
        restore(sandbox, storage, "early", on_progress=ctrl_c_when(lambda p: p.phase == "InProgress"))

    status = storage.restores.get("early")["status"]
    assert status["phase"] == "Failed" and status["failureReason"] == INTERRUPTED
    assert 'msg="restore early finished: Failed"' in storage.restores.logs("early")


def test_a_phase_that_breaks_records_failed_with_its_log_and_results(sandbox, storage):
    Path(storage.archive_path("demo-backup")).write_bytes(b"not a gzip file")
    result = restore(sandbox, storage, "broken")

    assert result.phase == "Failed"
    [error] = storage.restores.results("broken")["errors"]["velero"]
    assert "demo-backup.tar.gz" in error and error == result.failure_reason
    logs = storage.restores.logs("broken")
    assert 'msg="restore broken of backup demo-backup validated"' in logs
    assert f'msg="Velero restore error: {error}' in logs


def test_the_progress_total_is_fixed_by_prepare_and_the_percentage_only_grows(sandbox, storage):
    """Namespaces created on demand and volumes found on restored pods do not move the total."""
    seen: list[Progress] = []
    documents: list[dict[str, Any]] = []
    read = reading_records(storage, "steady", documents)

    def watch(progress: Progress) -> None:
        seen.append(progress)
        read(progress)

    spec = {"namespace_mapping": {"shop": "shop-copy"}}
    result = restore(sandbox, storage, "steady", on_progress=watch, spec=spec)

    assert result.phase == "Completed"
    prepared = next(i for i, p in enumerate(seen) if p.total_items)
    assert seen[prepared].step == "prepare"
    totals = {
        (p.total_items, tuple((r, e.total) for r, e in p.per_resource.items()), p.volumes_planned)
        for p in seen[prepared:]
    }
    assert len(totals) == 1 and next(iter(totals))[0] == 19 and next(iter(totals))[2] == 1
    percents = [p.percent for p in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    progress = [d["status"]["progress"] for d in documents if d["status"]["progress"]["totalItems"]]
    assert {p["totalItems"] for p in progress} == {19}
    restored = [p["itemsRestored"] for p in progress]
    assert restored == sorted(restored)
    # At the end both are the number of items restored, as in Velero (the completed job is not one).
    final = storage.restores.get("steady")["status"]["progress"]
    listed = sum(len(items) for items in storage.restores.resource_list("steady").values())
    assert final == {"totalItems": listed, "itemsRestored": listed}
