"""Reading backups stays light: no Prefect, no object-store client until one is used."""

from __future__ import annotations

import subprocess
import sys


def test_backup_package_does_not_import_prefect_or_s3fs() -> None:
    code = "import sys, restoreflow.backup; print(sorted(m for m in ('prefect', 's3fs') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
