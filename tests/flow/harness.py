"""Shared by the flow and CLI tests: one temporary Prefect server per test process, plan helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
_RUNNING: list[bool] = []  # tests/flow and tests/cli each register this fixture: start one server only


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Prefect's test harness: a temporary server on SQLite (seconds to start, so once per process),
    and a temporary result storage folder (the resource groups' outcomes), for flow runs in this
    process and in the processes it starts."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    if _RUNNING:
        yield
        return
    _RUNNING.append(True)
    results = tmp_path_factory.mktemp("prefect-results")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PREFECT_LOCAL_STORAGE_PATH", str(results))
        try:
            with (
                temporary_settings({PREFECT_LOCAL_STORAGE_PATH: results}),
                prefect_test_harness(server_startup_timeout=120),
            ):
                yield
        finally:
            _RUNNING.clear()


def unique(prefix: str) -> str:
    """A restore name no other test uses (the Prefect server is shared by the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def plan_document(storage_url: str, kubeconfig: str, **spec: Any) -> dict[str, Any]:
    """A restore plan for the sample backup `demo-backup` into the sandbox, fast timeouts."""
    return {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": spec.pop("name", "shop")},
        "spec": {
            "source": {"storageLocation": storage_url, "backupName": "demo-backup"},
            "target": {"kubeconfig": kubeconfig},
            "includedNamespaces": ["shop"],
            "includeClusterResources": True,
            "retries": {"phases": {"attempts": 2, "delay": "0s"}},
            "timeouts": {"fsBackupRestore": "30s", "hookWait": "30s"},
            **spec,
        },
    }


def yaml_text(document: dict[str, Any]) -> str:
    import io

    buffer = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(document, buffer)
    return buffer.getvalue()


def write_plan(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml_text(document))
    return path


def prefect_env() -> dict[str, str]:
    """The environment of a `prefect` command (or a worker) against the test's Prefect server, in the
    working copy (prefect.yaml's `{{ $PWD }}`)."""
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PWD": str(REPO)}


def deploy_all() -> None:
    """prefect.yaml's recipe: the process work pool `local`, then `prefect deploy --all`."""
    env = prefect_env()
    pools = subprocess.run([PREFECT, "work-pool", "ls"], env=env, capture_output=True, text=True, check=True)
    if " local " not in pools.stdout:
        subprocess.run([PREFECT, "work-pool", "create", "local", "--type", "process"], env=env, check=True)
    deploy = subprocess.run(
        [PREFECT, "--no-prompt", "deploy", "--all"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
