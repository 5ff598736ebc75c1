"""restoreflow's one local Prefect server: started in the background on first use, reused after.

A flow run needs a Prefect API. When `PREFECT_API_URL` is set (in the environment or the active
Prefect profile) that one is used. Otherwise restoreflow keeps one `prefect server start` of its own
under `$RESTOREFLOW_HOME/prefect` (default `~/.restoreflow/prefect`): the first command that runs a
flow starts it detached and waits for it as long as it takes (a fresh database migrates for a while),
every later command finds it from `server.json`, and the runs stay in its UI after the command ends.
Each start installs the zombie flow run automation (`crashes.py`): a run whose process died ends
Crashed.
Prefect's throwaway server (seconds to start, a timeout to race, gone with the process) is never used.

Importing this module does not import Prefect: `restoreflow server status` stays instant.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from restoreflow.orchestration.crashes import install_automation
from restoreflow.processes import alive, log_tail, stop_group

HOME_ENV = "RESTOREFLOW_HOME"
DEFAULT_PORT = 4200
HOST = "127.0.0.1"


class ServerError(Exception):
    """The local Prefect server cannot be started or reached; the message says why and where to look."""


@dataclass(frozen=True)
class ServerInfo:
    """What `server.json` records about the running server."""

    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def restoreflow_home() -> Path:
    return Path(os.environ.get(HOME_ENV) or "~/.restoreflow").expanduser()


def prefect_home() -> Path:
    """The local server's Prefect home: its database, its log, `server.json`."""
    return restoreflow_home() / "prefect"


def log_path() -> Path:
    return prefect_home() / "server.log"


def configured_api_url() -> str | None:
    """`PREFECT_API_URL` from the environment, the settings of an already imported Prefect, or the
    active Prefect profile: a server the user chose, which restoreflow then uses instead of its own."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    if "prefect.settings" in sys.modules:
        from prefect.settings import PREFECT_API_URL

        return PREFECT_API_URL.value() or None
    return _profile_api_url()


def _profile_api_url() -> str | None:
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    url = (profiles.get("profiles") or {}).get(active, {}).get("PREFECT_API_URL")
    return str(url) if url else None


def healthy(url: str, timeout: float = 1.0) -> bool:
    """Whether a Prefect API answers its health check."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def answers(url: str, timeout: float = 3.0) -> bool:
    """Whether anything answers HTTP at a Prefect API URL (Prefect Cloud's health check needs auth)."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def running() -> ServerInfo | None:
    """The local server recorded in `server.json`, if its process is still alive."""
    try:
        info = ServerInfo(**json.loads((prefect_home() / "server.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return info if alive(info.pid) and _is_prefect_server(info.pid) else None


def status() -> tuple[str, ServerInfo | None]:
    """`running`, `starting` (alive, not answering yet) or `stopped`."""
    info = running()
    if info is None:
        return "stopped", None
    return ("running" if healthy(info.api_url) else "starting"), info


def ensure_api(on_wait: Callable[[], AbstractContextManager[None]] | None = None) -> str:
    """The Prefect API a flow run talks to, exported as `PREFECT_API_URL` for this process and the
    processes it starts: the configured one, else restoreflow's local server (started if need be)."""
    url = configured_api_url()
    if url:
        return url
    info = start(on_wait)
    os.environ["PREFECT_API_URL"] = info.api_url
    os.environ.setdefault("PREFECT_HOME", str(prefect_home()))  # result storage beside the server
    return info.api_url


def start(on_wait: Callable[[], AbstractContextManager[None]] | None = None) -> ServerInfo:
    """Start the local server unless it runs, and wait until it answers, however long that takes.
    One start at a time: a second command waits on the lock, then finds the first one's server."""
    home = prefect_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ServerError(f"cannot create restoreflow's Prefect home {home}: {err.strerror or err}") from None
    with _locked(home / "server.lock"):
        info = running()
        spawned = info is None
        if info is None:
            info = _spawn(home)
        if not healthy(info.api_url):
            with on_wait() if on_wait else _nothing():
                _wait_healthy(info)
        if spawned:  # its runs whose process dies end Crashed (see crashes.py)
            install_automation(info.api_url)
    return info


def existing_api() -> str | None:
    """The Prefect API a command that must not start a server may talk to: the configured one when it
    answers, else the local server when it runs (exported as `PREFECT_API_URL`, as `ensure_api` does)."""
    url = configured_api_url()
    if url:
        return url if answers(url) else None
    info = running()
    if info is None:
        return None
    os.environ["PREFECT_API_URL"] = info.api_url
    os.environ.setdefault("PREFECT_HOME", str(prefect_home()))
    return info.api_url


def stop(timeout: float = 30.0) -> ServerInfo | None:
    """Stop the local server (its whole process group); None when none was running."""
    info = running()
    if info is None:
        return None
    stop_group(info.pid, timeout)
    (prefect_home() / "server.json").unlink(missing_ok=True)
    return info


def _spawn(home: Path) -> ServerInfo:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env |= {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    argv = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)]
    with log_path().open("ab") as log:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command, and Ctrl-C here does not reach it
        )
    info = ServerInfo(pid=process.pid, port=port)
    (home / "server.json").write_text(json.dumps(asdict(info)))
    return info


def _wait_healthy(info: ServerInfo) -> None:
    while not healthy(info.api_url):
        if not alive(info.pid):
            (prefect_home() / "server.json").unlink(missing_ok=True)
            raise ServerError(
                f"the local Prefect server did not start; its log is {log_path()}:\n{_log_tail()}"
            )
        time.sleep(0.2)


def _log_tail(lines: int = 15) -> str:
    return log_tail(log_path(), lines)


def _free_port() -> int:
    """Prefect's usual 4200 when free (the UI address people know), else any free port."""
    for port in (DEFAULT_PORT, 0):
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise ServerError("no free port for the local Prefect server")


def _is_prefect_server(pid: int) -> bool:
    """Whether the recorded pid is still the server (not a process that got its number since);
    assumed so where /proc cannot tell."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True
    return b"prefect" in command and b"server" in command


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
