"""Run a submitted flow run of `restore` in this process.

`restoreflow restore create` creates the flow run on the Prefect API first (so that "submitted" is
true when it says so), then runs it here with `--wait`, or detached as
`python -m restoreflow.orchestration.runner FLOW_RUN_ID` without, the way velero returns once a
restore is submitted while its server goes on.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn
from uuid import UUID

DRAIN_SECONDS = 10.0  # at most this long for each kind of worker, when the server went away


def run_submitted(flow_run_id: str) -> str:
    """Run the flow run to its end; its state name (Velero's phase for a restore that ran)."""
    from prefect import get_client
    from prefect.flow_engine import run_flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from restoreflow.orchestration.flow import restore

    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(UUID(flow_run_id))
    # The flow's cancel watch sends the heartbeats; Prefect's own thread would cost up to a second
    # per run when the engine joins it.
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        state = run_flow(restore, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")
    return str(state.name)


def exit_now(code: int) -> NoReturn:
    """End a process that ran a flow once Prefect's log and event workers have sent all they hold:
    the interpreter's own teardown of Prefect's modules would add 0.2-0.4 s to the command."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):  # the logs first: sending them may emit events
        worker.drain_all(timeout=DRAIN_SECONDS)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    (flow_run_id,) = argv if argv is not None else sys.argv[1:]
    return 0 if run_submitted(flow_run_id) == "Completed" else 1


if __name__ == "__main__":
    exit_now(main())
