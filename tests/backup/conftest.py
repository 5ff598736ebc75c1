"""Backup storage locations for the backup tests: a local folder and an S3 bucket on moto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupStorage


@pytest.fixture(params=["local", "s3"])
def bsl(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """(url, options) of an empty BSL, once per storage kind."""
    if request.param == "local":
        (tmp_path / "bsl").mkdir()
        return str(tmp_path / "bsl"), {}
    return request.getfixturevalue("s3_location")


@pytest.fixture
def storage(bsl: tuple[str, dict[str, Any]]) -> BackupStorage:
    url, options = bsl
    return BackupStorage.open(url, options)
