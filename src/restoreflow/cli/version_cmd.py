"""`restoreflow version`: the client, Prefect and the cluster, as `kubectl version` and `velero version`.

The client's versions come from package metadata (Prefect is not imported); the servers are asked
with a short timeout and reported as unreachable rather than failing the command.
"""

from __future__ import annotations

import argparse
import json
import platform
import urllib.request
from importlib.metadata import version
from typing import Any

from restoreflow.cli.common import completes, print_data
from restoreflow.orchestration import server


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--client", action="store_true", help="only the client's versions")
    parser.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    parser.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (env KUBECONFIG)")
    completes(parser.add_argument("--context", help="kubeconfig context to use"), "contexts")
    parser.epilog = "examples:\n  restoreflow version\n  restoreflow version --client -o json\n"
    parser.set_defaults(handler=version_command)


def version_command(args: argparse.Namespace) -> int:
    versions: dict[str, Any] = {
        "client": {"restoreflow": version("restoreflow"), "prefect": version("prefect")},
        "python": platform.python_version(),
    }
    if not args.client:
        versions["prefectServer"] = _prefect_server()
        versions["cluster"] = _cluster(args.kubeconfig, args.context)
    if args.output != "table":
        print_data(versions, args.output)
        return 0
    client, python = versions["client"], versions["python"]
    print(
        f"Client Version: restoreflow {client['restoreflow']} (Prefect {client['prefect']}, Python {python})"
    )
    if not args.client:
        print(f"Prefect Server: {_line(versions['prefectServer'])}")
        print(f"Cluster Version: {_line(versions['cluster'])}")
    return 0


def _line(answer: dict[str, str]) -> str:
    return f"{answer['version']} at {answer['url']}" if "version" in answer else answer["error"]


def _prefect_server() -> dict[str, str]:
    url = server.configured_api_url()
    if url is None:
        info = server.running()
        if info is None:
            return {"error": "<local server not running: `restoreflow server start`>"}
        url = info.api_url
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/admin/version", timeout=2) as answer:
            return {"version": str(json.load(answer)), "url": url}
    except (OSError, ValueError) as err:
        return {"error": f"<not reachable at {url}: {err}>"}


def _cluster(kubeconfig: str | None, context: str | None) -> dict[str, str]:
    from restoreflow.cli.common import CliError
    from restoreflow.cli.preflight import cluster_version
    from restoreflow.plan.model import Target

    try:
        found, host = cluster_version(Target(kubeconfig=kubeconfig, context=context))
    except CliError as err:
        return {"error": f"<{err}>"}
    return {"version": found, "url": host}
