"""`restoreflow server status|start|stop`: restoreflow's one local Prefect server.

Commands that run a flow start it on first use; these verbs show it, start it ahead of time (the
first start migrates a fresh database) and stop it. Runs and their logs stay in its database.
"""

from __future__ import annotations

import argparse

from restoreflow.cli.common import CliError, add_verb, waiting
from restoreflow.orchestration import server

EXAMPLES = """examples:
  restoreflow server start      # start it now (commands that run a flow also start it)
  restoreflow server status     # its address, process and home
  restoreflow server stop
  eval "$(restoreflow server env)"   # then prefect deploy, prefect worker start... use it
"""


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="server_command", metavar="COMMAND", required=True)
    for verb, handler, text in (
        ("status", status_command, "show whether the local Prefect server runs, and where"),
        ("start", start_command, "start the local Prefect server in the background"),
        ("stop", stop_command, "stop the local Prefect server"),
        ("env", env_command, "print `export PREFECT_API_URL=...` for the prefect CLI (eval it)"),
    ):
        command = add_verb(
            sub,
            verb,
            help=text,
            description=text,
            epilog=EXAMPLES,
        )
        command.set_defaults(handler=handler)


def status_command(args: argparse.Namespace) -> int:
    configured = server.configured_api_url()
    if configured:
        state = "answering" if server.healthy(configured) else "not answering"
        print(f"Prefect API: {configured} (PREFECT_API_URL), {state}")
        return 0 if state == "answering" else 1
    state, info = server.status()
    if info is None:
        print(f"Local Prefect server: stopped (home {server.prefect_home()})")
        return 1
    print(f"Local Prefect server: {state} at {info.url} (pid {info.pid}, home {server.prefect_home()})")
    print(f"UI: {info.url}/runs  log: {server.log_path()}")
    return 0 if state == "running" else 1


def start_command(args: argparse.Namespace) -> int:
    try:
        info = server.start(
            lambda: waiting("Starting the local Prefect server (a first start prepares its database)")
        )
    except server.ServerError as err:
        raise CliError(str(err)) from None
    print(f"Local Prefect server running at {info.url} (pid {info.pid}); UI: {info.url}/runs")
    return 0


def stop_command(args: argparse.Namespace) -> int:
    info = server.stop()
    print(f"Local Prefect server stopped (pid {info.pid})." if info else "Local Prefect server not running.")
    return 0


def env_command(args: argparse.Namespace) -> int:
    """The shell line that points Prefect's own CLI at the server restoreflow uses."""
    url = server.configured_api_url()
    if url is None:
        state, info = server.status()
        if info is None or state != "running":
            raise CliError("the local Prefect server is not running: `restoreflow server start`")
        url = info.api_url
    print(f"export PREFECT_API_URL={url}")
    return 0
