"""Starting a sandbox (in a background thread or a child process) and the handle tests hold.

The handle talks to the server over HTTP (`/_sandbox/...`) in both modes, so inspection works the same
whether the server shares the test's process or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from restoreflow.sandbox.faults import FaultRule
from restoreflow.sandbox.options import SandboxOptions

READY = re.compile(r"serving at (?P<url>http://\S+?),? kubeconfig: (?P<kubeconfig>.+)$")


class Sandbox:
    """A running sandbox: its URL and kubeconfig, clients for it, and inspection and control."""

    def __init__(self, url: str, kubeconfig: str, stop: Callable[[], None]) -> None:
        self.url = url
        self.kubeconfig = kubeconfig
        self._stop = stop

    def __repr__(self) -> str:
        return f"Sandbox({self.url})"

    # -- clients ------------------------------------------------------------------------------------

    def configuration(self) -> Any:
        """A kubernetes.client.Configuration for this sandbox."""
        from kubernetes import client

        config = client.Configuration()
        config.host = self.url
        return config

    def api_client(self) -> Any:
        """A new kubernetes.client.ApiClient configured for this sandbox."""
        from kubernetes import client

        return client.ApiClient(self.configuration())

    def aio_api_client(self) -> Any:
        """A new kubernetes.aio.client.ApiClient (create it inside the event loop that uses it)."""
        from kubernetes.aio import client

        config = client.Configuration()
        config.host = self.url
        return client.ApiClient(config)

    # -- inspection ---------------------------------------------------------------------------------

    def objects(self, resource: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects, full (with kind/apiVersion); resource as "pods", "deployments.apps"."""
        return self._call("GET", "objects", {"resource": resource, "namespace": namespace})

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self._call("GET", "object", {"resource": resource, "name": name, "namespace": namespace or ""})

    def load(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store objects as they are (no admission): pre-existing cluster state."""
        return self._call("POST", "load", body=list(objects))

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first: method, verb, path, resource, namespace, name, subresource,
        code (0: connection dropped), time, dry_run."""
        return self._call("GET", "requests")

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def add_fault(self, rule: FaultRule | str) -> None:
        self._call("POST", "faults", body=FaultRule.coerce(rule).to_dict())

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def configure(self, **options: Any) -> None:
        """Change options (controller delays, nodePort range...) from now on."""
        SandboxOptions().updated(**options)
        self._call("POST", "configure", body=options)

    def options(self) -> SandboxOptions:
        return SandboxOptions(**self._call("GET", "options"))

    def reset(self, **options: Any) -> None:
        """Back to the initial state, faults and log cleared; options override the start options."""
        SandboxOptions().updated(**options)
        self._call("POST", "reset", body=options)

    def stop(self) -> None:
        self._stop()

    def _call(self, method: str, op: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{op}{'?' + query if query else ''}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            if err.code == 404 and op == "object":
                return None
            raise RuntimeError(f"sandbox {op}: {err.read().decode()}") from None


def write_kubeconfig(path: str | os.PathLike[str], url: str) -> str:
    """A kubeconfig whose cluster, user and context are all named `sandbox`."""
    text = (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: sandbox\n  cluster:\n    server: {url}\n"
        "users:\n- name: sandbox\n  user:\n    token: sandbox\n"
        "contexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: sandbox\n"
        "    namespace: default\n"
        "current-context: sandbox\npreferences: {}\n"
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return str(target)


def bind_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def serve(
    options: SandboxOptions,
    sock: socket.socket,
    stopped: asyncio.Event,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve on sock until `stopped` is set; on_ready runs once requests are being answered."""
    from aiohttp import web

    from restoreflow.sandbox.server import SandboxServer

    host, port = sock.getsockname()[:2]
    server = SandboxServer(options)
    server.address = f"{host}:{port}"
    server.start_state()
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    if on_ready is not None:
        on_ready()
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class _ThreadServer:
    """The server on its own event loop in a daemon thread of this process."""

    def __init__(self, options: SandboxOptions, host: str, port: int) -> None:
        self.sock = bind_socket(host, port)
        self.url = url_of(self.sock)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._run, args=(options,), name="restoreflow-sandbox", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _run(self, options: SandboxOptions) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            await serve(options, self.sock, self._stopped, self._ready.set)

        try:
            asyncio.run(main())
        except BaseException as err:  # reported to the starting thread
            self._error = err
            self._ready.set()

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)


class _ProcessServer:
    """The server as `python -m restoreflow.sandbox serve` (its own interpreter and GIL).

    Its stderr goes to a file beside the kubeconfig, so a chatty server never blocks on a full pipe.
    """

    def __init__(self, options: SandboxOptions, host: str, port: int, kubeconfig: str) -> None:
        command = [
            sys.executable, "-m", "restoreflow.sandbox", "serve", "--host", host, "--port", str(port),
            "--kubeconfig", kubeconfig, "--options-json", json.dumps(options.to_dict()),
        ]  # fmt: skip
        self.log_path = Path(kubeconfig).with_name("sandbox-server.log")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = READY.search(line.strip())
        if not match:
            self.process.kill()
            self.process.wait(timeout=10)
            raise RuntimeError(f"sandbox process did not start: {line}{self.log_path.read_text()}")
        self.url = match["url"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextlib.contextmanager
def start_sandbox(
    *,
    process: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    kubeconfig: str | None = None,
    **options: Any,
) -> Iterator[Sandbox]:
    """Run a sandbox for the duration of the block: in a background thread, or (process=True) in a
    child process so that client and server do not share a GIL (benchmarks).

    options: SandboxOptions fields (delays, node_port_range, storage_classes, nodes, velero_crds,
    snapshot_crds, state, faults, seed).
    """
    opts = SandboxOptions().updated(**options)
    with tempfile.TemporaryDirectory(prefix="restoreflow-sandbox-") as scratch:
        config_path = kubeconfig or os.path.join(scratch, "kubeconfig")
        runner: _ThreadServer | _ProcessServer
        if process:
            runner = _ProcessServer(opts, host, port, config_path)
        else:
            runner = _ThreadServer(opts, host, port)
            write_kubeconfig(config_path, runner.url)
        sandbox = Sandbox(runner.url, config_path, runner.stop)
        try:
            yield sandbox
        finally:
            runner.stop()
