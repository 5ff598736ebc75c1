"""Hostile backups: each refused with an error naming the file and what is wrong, nothing written
outside the restore's own record, memory bounded, no traceback.

Memory: while restoring any case, Python's allocations peak below MEMORY_BOUND: the gzip
inflation grace (the bytes a gzip stream may unpack before its ratio is judged) plus 32 MiB,
whatever the case claims to unpack (a 1 GiB gzip bomb, a 33 MiB item, 300 MiB side files).
"""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.backup.errors import BackupError
from restoreflow.backup.files import INFLATION_GRACE
from restoreflow.plan.model import Concurrency, RestorePlan, RestoreSpec, Source, Target
from restoreflow.restore import RestoreResult, run_restore
from restoreflow.sandbox import Sandbox
from tests.reliability.figures import report
from tests.reliability.hostile import BACKUP, CASES, Hostile

MEMORY_BOUND = INFLATION_GRACE + 32 * 1024 * 1024
REFUSED: list[str] = []


def messages(result: RestoreResult) -> list[str]:
    """Every message a user is shown about the restore: failure, validation errors, item errors."""
    found = [result.failure_reason, *result.validation_errors]
    errors = result.results.get("errors") or {}
    found += errors.get("velero") or []
    found += errors.get("cluster") or []
    for per_namespace in (errors.get("namespaces") or {}).values():
        found += per_namespace
    return [m for m in found if m]


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def restore(location: Path, sandbox: Sandbox) -> tuple[RestoreResult, int]:
    """The restore of the hostile backup and the peak of Python's allocations meanwhile."""
    spec = RestoreSpec(
        source=Source(storage_location=str(location), backup_name=BACKUP),
        target=Target(kubeconfig=sandbox.kubeconfig),
        concurrency=Concurrency(workers=4, qps=0),
    )
    tracemalloc.start()
    try:
        result = run_restore(RestorePlan(name="hostile", spec=spec), restore_name="r1")
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_backup_is_refused_precisely(
    case: Hostile, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"  # where the archive is spilled: must be empty again afterwards
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    location = tmp_path / "bsl"
    storage = BackupStorage.open(location, create=True)
    case.write(storage)
    before = files_under(location)

    if case.max_entries:  # the entry limit, lowered so `make test` need not write a million entries
        with pytest.raises(BackupError) as refused:
            storage.open_archive(BACKUP, max_entries=case.max_entries)
        shown, peak, phase = [str(refused.value)], 0, case.phase
    else:
        result, peak = restore(location, sandbox)
        shown, phase = messages(result), result.phase
        log = storage.restores.logs("r1")
        assert "Traceback" not in log and not any("Traceback" in m for m in shown)

    assert phase == case.phase, shown
    assert any(all(word in message for word in case.words) for message in shown), shown
    assert {f for f in files_under(location) - before if not f.startswith("restores/r1/")} == set()
    assert list(scratch.iterdir()) == []
    assert not [p for p in tmp_path.rglob("evil*")]
    for resource, namespace, name in case.absent:
        assert sandbox.get(resource, name, namespace) is None, (resource, namespace, name)
    assert peak < MEMORY_BOUND, f"{peak} bytes"
    REFUSED.append(case.name)
    report("hostile backup", case=case.name, refused=1, peak_bytes=peak)


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)
