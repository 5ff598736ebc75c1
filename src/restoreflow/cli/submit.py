"""The one place `restore create` submits a restore: a flow run of `restore` on the Prefect API.

The Prefect API is `PREFECT_API_URL`, or restoreflow's local server (started on first use). The
flow run is created before anything says "submitted"; then it runs in this process (`--wait`: the
live display, Ctrl-C repairs the record), in a detached process (no `--wait`: the command returns,
the restore goes on) or on a deployment's worker (`--deployment`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from restoreflow.cli.common import CliError, waiting
from restoreflow.cli.progress import FINAL_PHASES
from restoreflow.orchestration import server


@dataclass(frozen=True)
class Submission:
    """A flow run that exists on the Prefect API."""

    flow_run_id: str
    api_url: str
    deployment: str | None = None

    @property
    def ui_url(self) -> str:
        return f"{self.api_url.rstrip('/').removesuffix('/api')}/runs/flow-run/{self.flow_run_id}"


def connect(verbose: bool) -> str:
    """The Prefect API, answering; Prefect's console logs silenced unless `verbose`."""
    try:
        api_url = server.ensure_api(lambda: waiting("Starting restoreflow's local Prefect server"))
    except server.ServerError as err:
        raise CliError(str(err)) from None
    if not server.answers(api_url):
        raise CliError(f"the Prefect API at {api_url} (PREFECT_API_URL) does not answer")
    _quiet_prefect(verbose)
    return api_url


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's task and flow log lines go to the run's log (UI, `restore logs`), not the terminal."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    import prefect.main  # noqa: F401  (configures Prefect's logging)
    from prefect.logging.handlers import PrefectConsoleHandler

    level = logging.NOTSET if verbose else logging.CRITICAL + 1
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(level)


def deployment_name(deployment: str) -> str:
    """`FLOW/DEPLOYMENT`, or a deployment of the `restore` flow."""
    return deployment if "/" in deployment else f"restore/{deployment}"


def check_deployment(deployment: str, api_url: str) -> None:
    """Fail before submitting when the deployment does not exist."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    name = deployment_name(deployment)
    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        raise CliError(
            f'deployment "{name}" not found on the Prefect API at {api_url} (see `prefect deploy`)'
        ) from None
    except Exception as err:
        raise CliError(f"cannot read deployment {name} from the Prefect API at {api_url}: {err}") from None


def submit(name: str, parameters: dict[str, Any], api_url: str, deployment: str | None) -> Submission:
    """Create the restore's flow run (named as the restore): on the deployment, or of the `restore`
    flow for this machine."""
    from prefect import get_client

    try:
        if deployment:
            from prefect.deployments import run_deployment

            name = deployment_name(deployment)
            target = deployment_name(deployment)
            flow_run = run_deployment(name=target, parameters=parameters, flow_run_name=name, timeout=0)
            return Submission(str(flow_run.id), api_url, target)
        from restoreflow.orchestration.flow import restore

        with get_client(sync_client=True) as client:
            flow_run = client.create_flow_run(restore, name=name, parameters=parameters)
    except CliError:
        raise
    except Exception as err:
        raise CliError(
            f"cannot create the restore's flow run on the Prefect API at {api_url}: {err}"
        ) from None
    return Submission(str(flow_run.id), api_url)


def run_here(submission: Submission) -> str:
    """Run the flow run in this process; the restore's phase."""
    from restoreflow.orchestration.runner import run_submitted

    phase = run_submitted(submission.flow_run_id)
    return phase if phase in FINAL_PHASES else "Failed"


def run_in_background(submission: Submission) -> None:
    """Run the flow run in a detached process that outlives this command; its output in a log file."""
    logs = server.restoreflow_home() / "runs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_API_URL": submission.api_url}
    with (logs / f"{submission.flow_run_id}.log").open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "restoreflow.orchestration.runner", submission.flow_run_id],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def follow(submission: Submission, interval: float = 1.0) -> str:
    """Wait for a flow run that runs elsewhere to end; its state name is the restore's phase."""
    from uuid import UUID

    from prefect import get_client

    with get_client(sync_client=True) as client:
        while True:
            state = client.read_flow_run(UUID(submission.flow_run_id)).state
            if state and state.is_final():
                return state.name if state.name in FINAL_PHASES else "Failed"
            time.sleep(interval)
