"""Cancel a restore from the Prefect UI or API.

A flow run started in-process (`restoreflow restore create`) has no worker or runner watching for a
cancel request, and Prefect cannot interrupt the engine's threads. This watch polls the run's state
and, once it is Cancelling (or Cancelled), sets the engine's cancel event: the engine stops taking
new items, ends its waits, and finalize leaves a consistent record.

The same thread sends the flow run's heartbeat (`prefect.flow-run.heartbeat`, as Prefect's engine
does, every 3 minutes by default). restoreflow's runner turns Prefect's own heartbeat thread off: the
engine joins it at the end of every run, and it sleeps in whole seconds (0 to 1 s more per run).
"""

from __future__ import annotations

import contextvars
import threading
import time
from uuid import UUID

from prefect import get_client
from prefect.events import emit_event

HEARTBEAT_SECONDS = 180.0  # Prefect's default flow-run heartbeat frequency


class CancellationWatch:
    def __init__(self, flow_run_id: str, cancel: threading.Event, interval: float = 1.0) -> None:
        self._flow_run_id = UUID(flow_run_id)
        self._cancel = cancel
        self._interval = interval
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the run's settings (API URL) live in context variables
        self._thread = threading.Thread(
            target=context.run, args=(self._loop,), name="restore-cancel-watch", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        self._heartbeat()
        beat = time.monotonic()
        with get_client(sync_client=True) as client:
            while not self._stop.wait(self._interval):
                if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    beat = time.monotonic()
                    self._heartbeat()
                try:
                    state = client.read_flow_run(self._flow_run_id).state
                except Exception:  # a passing API fault: look again next time
                    continue
                if state is not None and (state.is_cancelling() or state.is_cancelled()):
                    self._cancel.set()
                    return

    def _heartbeat(self) -> None:
        try:
            resource = {"prefect.resource.id": f"prefect.flow-run.{self._flow_run_id}"}
            emit_event(event="prefect.flow-run.heartbeat", resource=resource)
        except Exception:  # observability must never fail a restore
            pass

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
