"""Problems found in a plan, each pinned to a place in its file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem: `FILE:LINE:COLUMN: json.path: message` (lines and columns are 1-based).

    Problems in plain documents (CLI flags, flow parameters) have no line or column.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
        }


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Unique problems in file order (position-less ones keep their order, after the others)."""
    unique = list(dict.fromkeys(problems))
    positioned = sorted((p for p in unique if p.line is not None), key=lambda p: (p.line, p.column))
    return positioned + [p for p in unique if p.line is None]


class PlanError(Exception):
    """A plan that cannot be used; carries every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sort_problems(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
