"""Running one command in a container through the Kubernetes exec API, with a timeout that really stops.

Each call uses its own ApiClient (sharing the restore's configuration): the official client's
`stream()` swaps the client's transport while it runs, which must not happen under the engine's
other threads. On timeout the WebSocket is closed, so nothing is left waiting on the command.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL

from restoreflow.kube.durations import format_duration

_STATUS_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"')


class ExecFailed(Exception):
    """The command could not run, exited non-zero, or timed out; str() is client-go's wording."""


@dataclass(frozen=True)
class ExecOutput:
    stdout: str
    stderr: str


def exec_command(
    configuration: k8s.Configuration,
    namespace: str,
    pod: str,
    container: str,
    command: tuple[str, ...],
    timeout: float,
) -> ExecOutput:
    """Run `command` in the container and wait at most `timeout` seconds for it to finish."""
    api_client = k8s.ApiClient(configuration)
    try:
        try:
            session = stream(
                k8s.CoreV1Api(api_client).connect_get_namespaced_pod_exec,
                pod,
                namespace,
                container=container,
                command=list(command),
                stdin=False,
                stdout=True,
                stderr=True,
                tty=False,
                _preload_content=False,
            )
        except ApiException as err:
            raise ExecFailed(_handshake_message(err)) from err
        try:
            return _wait(session, timeout)
        finally:
            session.close()
    finally:
        api_client.close()  # type: ignore[no-untyped-call]


def _wait(session: Any, timeout: float) -> ExecOutput:
    deadline = time.monotonic() + timeout
    while session.is_open():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ExecFailed(f"timed out after {format_duration(timeout)}")
        session.update(timeout=min(remaining, 1.0))
    output = ExecOutput(
        session.read_channel(STDOUT_CHANNEL),
        session.read_channel(STDERR_CHANNEL),
    )
    error = _status_error(session.read_channel(ERROR_CHANNEL))
    if error:
        raise ExecFailed(error)
    return output


def _status_error(text: str) -> str | None:
    """The error a v4 channel Status reports, as client-go words it; None on success."""
    if not text.strip():
        return None
    try:
        status = json.loads(text)
    except ValueError:
        return text.strip()
    if status.get("status") == "Success":
        return None
    if status.get("reason") == "NonZeroExitCode":
        causes = (status.get("details") or {}).get("causes") or []
        code = next((c.get("message") for c in causes if c.get("reason") == "ExitCode"), None)
        if code is not None:
            return f"command terminated with exit code {code}"
    return str(status.get("message") or "error executing command")


def _handshake_message(err: ApiException) -> str:
    """The API server's Status message from a refused exec upgrade (e.g. an unknown container)."""
    text = str(err.reason or err)
    found = _STATUS_MESSAGE.search(text)
    return found.group(1).encode().decode("unicode_escape") if found else text
