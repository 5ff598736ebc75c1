"""Flow runs whose process died end Crashed, not Running forever.

A restore's process killed outright (`kill -9`, a lost node, an OOM kill), or a Prefect worker killed
with its flow run's process, cannot end its flow run: Prefect would show it Running for good. Two
things end it:

- on the same host, the next restoreflow command that reads the restore's record sees its process
  gone, marks the record Failed (`backup.liveness`) and the flow run Crashed, with the same reason
  (from another host, a record whose flow run ended is marked Failed with the run's state);
- anywhere, the automation of `zombie-flow-runs.json` (Prefect's "zombie flow run" recipe) marks
  Crashed a flow run that sent heartbeats and then nothing for 10 minutes. restoreflow installs it on
  its local server when it starts it; for another server: `prefect automation create --from-file`.

Importing this module does not import Prefect (the local server's start and the read-only commands
use it); marking a run Crashed does, only when a dead run was found.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

AUTOMATION_FILE = Path(__file__).with_name("zombie-flow-runs.json")
LIVE_STATES = ("PENDING", "RUNNING", "CANCELLING")  # what a dead process leaves behind
FINAL_STATES = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")


def zombie_automation() -> dict[str, Any]:
    """The automation, as `prefect automation create --from-file` takes it."""
    document: dict[str, Any] = json.loads(AUTOMATION_FILE.read_text())
    return document


def install_automation(api_url: str) -> bool:
    """Create the zombie flow run automation on a Prefect API unless one of its name is there;
    whether it is there now. Plain HTTP: the local server's start does not import Prefect."""
    automation = zombie_automation()
    try:
        found = _post(
            f"{api_url}/automations/filter", {"automations": {"name": {"any_": [automation["name"]]}}}
        )
        if not found:
            _post(f"{api_url}/automations/", automation)
    except (OSError, ValueError) as error:  # an old server, automations turned off: runs still work
        log.warning("could not install the automation %r: %s", automation["name"], error)
        return False
    return True


class PrefectRuns:
    """Restores' flow runs on the Prefect API the CLI uses, as restore records need them
    (`backup.liveness.FlowRuns`): no server running, nothing known, nothing changed."""

    def __init__(self, find_api: Callable[[], str | None]) -> None:
        self._find_api = find_api  # the API to ask, looked up once and only when a record needs it
        self._api: str | None = None
        self._looked = False

    def ended(self, flow_run_id: str) -> str | None:
        api = self._api_url()
        if api is None:
            return None
        try:
            state = (_get(f"{api}/flow_runs/{flow_run_id}") or {}).get("state") or {}
        except (OSError, ValueError):  # another server's run, a passing fault: not known to have ended
            return None
        if state.get("type") not in FINAL_STATES:
            return None
        return f"{state.get('name')} ({state['message']})" if state.get("message") else str(state.get("name"))

    def record_ended(self, document: dict[str, Any]) -> None:
        """The flow run of a record found abandoned: Crashed with the record's reason, when the run
        still says it is going. Never fails the command."""
        status = document.get("status") or {}
        flow_run_id, reason = status.get("flowRunId"), str(status.get("failureReason") or "")
        if not flow_run_id or self._api_url() is None:  # no server: nothing shows the run Running
            return
        try:
            _set_crashed(str(flow_run_id), reason)
        except Exception as error:  # the record is already Failed; the automation ends the run later
            log.warning("could not mark flow run %s Crashed: %s", flow_run_id, error)

    def _api_url(self) -> str | None:
        if not self._looked:
            self._api, self._looked = self._find_api(), True
        return self._api


def _set_crashed(flow_run_id: str, reason: str) -> None:
    from uuid import UUID

    from prefect import get_client
    from prefect.states import Crashed

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
        if state is not None and state.type.value in LIVE_STATES:
            client.set_flow_run_state(UUID(flow_run_id), Crashed(message=reason))


def _get(url: str) -> Any:
    """A Prefect API answer, with the credentials of the environment (Prefect Cloud's key, a
    server's basic auth); a profile's are not read (the run is then not known to have ended)."""
    headers = {}
    if key := os.environ.get("PREFECT_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    elif auth := os.environ.get("PREFECT_API_AUTH_STRING"):
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")
