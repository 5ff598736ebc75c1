"""Sizes for the reliability suite (small in `make test`, full in `make soak`) and the figures it reports.

`make soak` sets RESTOREFLOW_SOAK=1 (full sizes) and RESTOREFLOW_SOAK_FIGURES to a JSON-lines file;
each test adds its figures there and `bench/soak.py` prints them as one table.
"""

from __future__ import annotations

import json
import os
from typing import Any

SOAK = os.environ.get("RESTOREFLOW_SOAK") == "1"


def size(test: int, soak: int) -> int:
    return soak if SOAK else test


def report(name: str, **figures: Any) -> None:
    """Add one test's figures to the soak report (nothing outside `make soak`)."""
    path = os.environ.get("RESTOREFLOW_SOAK_FIGURES")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"test": name, **figures}) + "\n")
