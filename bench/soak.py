"""`make soak`: the reliability suite (tests/reliability) at full size, then one table of its figures.

Full size: a 10,000-item restore through 10% faults, ten `kill -9` points in a 2,000-item restore,
`kill -9` of `restore create --wait` and of a Prefect worker under a deployment run, the tar bomb at
the real entry limit. Each test adds its figures to a JSON-lines file
(`tests/reliability/figures.py`); this prints them with the wall time and the peak memory of the run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_suite(figures: Path, pytest_args: list[str]) -> int:
    env = {**os.environ, "RESTOREFLOW_SOAK": "1", "RESTOREFLOW_SOAK_FIGURES": str(figures)}
    argv = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "tests/reliability"]
    return subprocess.run([*argv, *pytest_args], cwd=ROOT, env=env).returncode


def table(rows: list[dict[str, Any]], wall: float, peak_kib: int) -> list[tuple[str, str]]:
    by_test: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_test.setdefault(row["test"], []).append(row)
    wire = (by_test.get("wire faults") or [{}])[0]
    crashes = by_test.get("crashes", []) + by_test.get("cli crash", []) + by_test.get("worker crash", [])
    faults = Counter(wire.get("faults") or {})
    hostile = by_test.get("hostile backup", [])
    return [
        ("items restored through faults", f"{wire.get('items', 0):,} ({wire.get('requests', 0):,} requests)"),
        ("faults injected by kind", ", ".join(f"{kind} {n}" for kind, n in sorted(faults.items())) or "none"),
        ("retries", str(wire.get("retries", 0))),
        ("lost", str(sum(r.get("lost", 0) for r in [wire, *crashes]))),
        ("duplicated", str(sum(r.get("duplicated", 0) for r in [wire, *crashes]))),
        ("crash points survived (kill -9)", _crash_points(by_test)),
        (
            "hostile inputs refused",
            f"{len(hostile)} (peak {max((h['peak_bytes'] for h in hostile), default=0) >> 20} MiB)",
        ),
        ("plans refused", str(sum(r.get("refused", 0) for r in by_test.get("broken plans", [])))),
        ("secrets found", str(sum(r.get("secrets_found", 0) for r in by_test.get("secrets", [])))),
        ("wall time", f"{wall:.0f} s"),
        ("peak memory (test process)", f"{peak_kib >> 10} MiB"),
    ]


def _crash_points(by_test: dict[str, list[dict[str, Any]]]) -> str:
    """The total, then by where the kill landed: the engine, `restore create --wait`, a Prefect worker."""
    kinds = {
        "crashes": "in the engine",
        "cli crash": "of restore create --wait",
        "worker crash": "of a worker",
    }
    counts = {
        label: sum(r.get("crash_points", 0) for r in by_test.get(test, [])) for test, label in kinds.items()
    }
    parts = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
    return f"{sum(counts.values())} ({parts})" if parts else "0"


def main(pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        figures = Path(scratch, "figures.jsonl")
        figures.touch()
        started = time.monotonic()
        code = run_suite(figures, pytest_args)
        wall = time.monotonic() - started
        rows = [json.loads(line) for line in figures.read_text().splitlines() if line]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows_out = table(rows, wall, peak)
    width = max(len(name) for name, _ in rows_out)
    print(f"\n{'figure':<{width}}  value\n{'-' * width}  -----")
    for name, value in rows_out:
        print(f"{name:<{width}}  {value}")
    print(f"\nsuite: {'passed' if code == 0 else 'FAILED'}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
