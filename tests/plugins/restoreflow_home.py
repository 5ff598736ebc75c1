"""restoreflow's home for the test session, never the user's `~/.restoreflow`: a command a test runs
without PREFECT_API_URL starts its local Prefect server there, and it is stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def restoreflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from restoreflow.orchestration import server

    home = tmp_path_factory.mktemp("restoreflow-home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RESTOREFLOW_HOME", str(home))
        yield home
        server.stop()
