"""Flow tests run the real flow on a temporary Prefect server against the sandbox."""

from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage, sample_backup
from tests.flow.harness import prefect_server

__all__ = ["prefect_server"]


@pytest.fixture
def storage(tmp_path: Path) -> BackupStorage:
    """A local storage location holding the sample application's backup `demo-backup`."""
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    sample_backup(storage, "demo-backup")
    return storage
