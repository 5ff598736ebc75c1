"""`restoreflow sandbox serve`: run the local Kubernetes API server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

from restoreflow.cli.common import CliError, add_verb

DELAYS = (
    ("crd_establish_delay", "CRD -> Established and served"),
    ("namespace_setup_delay", "new namespace -> default ServiceAccount and kube-root-ca.crt"),
    ("namespace_termination_delay", "Terminating namespace -> contents and namespace deleted"),
    ("pod_running_delay", "pod Pending -> Running"),
    ("workload_ready_delay", "Deployment/StatefulSet/... -> ready replicas"),
    ("pvc_bind_delay", "PVC -> Bound"),
    ("pvr_progress_delay", "each PodVolumeRestore step"),
    ("data_download_delay", "each DataDownload step (the data mover)"),
)


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND", required=True)
    serve = add_verb(
        sub,
        "serve",
        help="serve a local Kubernetes API (a test double) until interrupted",
        description="Serve a local Kubernetes API server (a test double for restores) until SIGINT/SIGTERM. "
        "Prints one line with the URL and the kubeconfig path when ready.",
        epilog="examples:\n  restoreflow sandbox serve --velero-crds --kubeconfig /tmp/sandbox.kubeconfig\n"
        "  restoreflow sandbox serve --fault verb=create,resource=pods,count=3,code=503\n",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=0, help="port (0: a free port)")
    serve.add_argument(
        "--kubeconfig", metavar="PATH", help="where to write the kubeconfig (default: a temp file)"
    )
    serve.add_argument(
        "--state", metavar="FILE", help="YAML/JSON objects (a list, a List or documents) to load"
    )
    serve.add_argument(
        "--fault",
        metavar="SPEC",
        action="append",
        default=[],
        help="fault rule, e.g. verb=create,resource=pods,count=3,code=503 (repeatable)",
    )
    for name, text in DELAYS:
        serve.add_argument(
            f"--{name.replace('_', '-')}", type=float, metavar="SECONDS", help=f"delay: {text}"
        )
    serve.add_argument("--node-port-range", metavar="LOW-HIGH", help="Service nodePort range (30000-32767)")
    serve.add_argument(
        "--velero-crds", action="store_true", help="serve velero.io and create namespace velero"
    )
    serve.add_argument("--snapshot-crds", action="store_true", help="serve snapshot.storage.k8s.io")
    serve.add_argument("--seed", type=int, help="seed for fault shares and generated names")
    serve.add_argument("--options-json", help=argparse.SUPPRESS)
    serve.set_defaults(handler=run_serve)


def _options(args: argparse.Namespace) -> Any:
    from restoreflow.sandbox.faults import FaultRule
    from restoreflow.sandbox.options import SandboxOptions

    values: dict[str, Any] = json.loads(args.options_json) if args.options_json else {}
    for name, _ in DELAYS:
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    for name in ("node_port_range", "seed"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    values["velero_crds"] = values.get("velero_crds", False) or args.velero_crds
    values["snapshot_crds"] = values.get("snapshot_crds", False) or args.snapshot_crds
    try:
        for spec in args.fault:
            FaultRule.parse(spec)
        values["faults"] = [*values.get("faults", []), *args.fault]
        if args.state:
            values["state"] = [*values.get("state", []), *read_state(Path(args.state))]
        options = SandboxOptions().updated(**values)
        options.port_range()
    except ValueError as err:
        raise CliError(str(err), 2) from None
    return options


def read_state(path: Path) -> list[dict[str, Any]]:
    """Objects from a YAML or JSON file: a list, a `kind: List`, or several documents."""
    from ruamel.yaml import YAML, YAMLError

    try:
        documents = list(YAML(typ="safe", pure=True).load_all(path.read_text()))
    except OSError as err:
        raise CliError(f"--state {path}: {err.strerror}", 2) from None
    except YAMLError as err:
        raise CliError(f"--state {path}: not YAML or JSON: {err}", 2) from None
    objects: list[dict[str, Any]] = []
    for doc in documents:
        if doc is None:
            continue
        items = (
            doc
            if isinstance(doc, list)
            else doc.get("items", [])
            if doc.get("kind", "").endswith("List")
            else [doc]
        )
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not item.get("apiVersion") or not item.get("kind"):
                raise CliError(
                    f"--state {path}: item {index} is not a Kubernetes object (apiVersion, kind)", 2
                )
            objects.append(item)
    return objects


def run_serve(args: argparse.Namespace) -> int:
    from restoreflow.sandbox.handle import bind_socket, serve, url_of, write_kubeconfig

    options = _options(args)
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as err:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {err.strerror}") from None
    url = url_of(sock)
    scratch = None
    if args.kubeconfig:
        kubeconfig = args.kubeconfig
    else:
        scratch = tempfile.mkdtemp(prefix="restoreflow-sandbox-")
        kubeconfig = os.path.join(scratch, "kubeconfig")
    write_kubeconfig(kubeconfig, url)

    async def main() -> None:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        ready = f"restoreflow sandbox serving at {url}, kubeconfig: {kubeconfig}"
        await serve(options, sock, stopped, lambda: print(ready, flush=True))

    try:
        asyncio.run(main())
    except Exception as err:
        raise CliError(f"sandbox failed: {err}") from err
    finally:
        if scratch:
            Path(kubeconfig).unlink(missing_ok=True)
            os.rmdir(scratch)
    return 0
