"""Async item operations in the flow: their own `item operations` task, between hooks and finalize."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.schemas.objects import StateType

from restoreflow.backup import BackupStorage
from restoreflow.sandbox import Sandbox
from tests.actions.test_item_operations import PLUGIN_MODULE
from tests.flow.harness import unique
from tests.flow.test_flow import run, task_runs
from tests.plugins.entry_points import installed_plugin

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]


@pytest.fixture
def async_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    with installed_plugin(plugins, monkeypatch, PLUGIN_MODULE, {"import": "{module}:Import"}):
        yield


def test_operations_are_waited_for_in_their_own_task(
    async_plugin: None, sandbox: Sandbox, storage: BackupStorage
) -> None:
    name = unique("async")
    state = run(storage, sandbox, name, itemOperationTimeout="1s")

    assert state.type == StateType.FAILED and state.name == "PartiallyFailed"
    names = [r.name for r in task_runs(state)]
    assert names[-4:] == ["volumes", "hooks", "item operations", "finalize"]
    status = storage.restores.get(name)["status"]
    attempted = status["restoreItemOperationsAttempted"]
    assert attempted >= 1 and status["restoreItemOperationsFailed"] == attempted  # none completes in 1s
    errors = storage.restores.results(name)["errors"]["velero"]
    assert errors == ["error from restore item operation: Asynchronous action timed out"] * attempted
