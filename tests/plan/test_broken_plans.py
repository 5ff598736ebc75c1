"""The corpus of broken plans: every problem of each file, in order, with line and column.

Each file under broken/ ends with `# expect: LINE:COLUMN: json.path: message` comments (trailing
comments move no positions), and loading it must report exactly those problems.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from restoreflow.plan import PlanError, load_plan

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))


def expected_problems(path: Path) -> list[str]:
    prefix = "# expect: "
    return [
        f"{path}:{line.removeprefix(prefix)}"
        for line in path.read_text().splitlines()
        if line.startswith(prefix)
    ]


def test_the_corpus_covers_every_kind_of_problem() -> None:
    assert len(BROKEN) >= 25
    assert all(expected_problems(path) for path in BROKEN)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_plan_reports_every_problem_in_file_order(path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert [str(problem) for problem in caught.value.problems] == expected_problems(path)
    assert str(caught.value).splitlines() == expected_problems(path)


def test_secrets_in_a_plan_are_refused_without_being_repeated() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(Path(__file__).parent / "broken" / "credentials.yaml")
    assert len(caught.value.problems) == 3
    assert "very-secret" not in str(caught.value)
    assert "AKIAEXAMPLE" not in str(caught.value)
