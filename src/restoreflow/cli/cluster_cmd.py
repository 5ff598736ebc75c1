"""`restoreflow cluster up|down|status`: a real Kubernetes control plane on loopback."""

from __future__ import annotations

import argparse
import sys

from restoreflow.cli.common import CliError, add_verb

EXAMPLES = """examples:
  restoreflow cluster up --velero-crds          # etcd, kube-apiserver, controllers, scheduler, a node
  restoreflow cluster up --velero-crds --exec   # and exec hooks, run on this machine through kwok
  export KUBECONFIG=~/.restoreflow/cluster/kubeconfig
  restoreflow restore create --plan plans/demo.yaml --wait
  restoreflow cluster down
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    sub = parser.add_subparsers(dest="cluster_command", metavar="COMMAND", required=True)
    up = add_verb(
        sub,
        "up",
        help="start a real control plane in the background",
        description="Start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a node "
        "simulator on loopback, in the background; return once the API server is ready. The programs "
        "come from KUBEBUILDER_ASSETS or are built once from Kubernetes' Go modules (needs Go).",
        epilog=EXAMPLES,
    )
    _state_flag(up)
    up.add_argument(
        "--kubeconfig", metavar="PATH", help="where to write the kubeconfig (default: STATE/kubeconfig)"
    )
    up.add_argument(
        "--velero-crds",
        action="store_true",
        help="install Velero's CRDs and namespace, as `sandbox serve` does",
    )
    up.add_argument(
        "--exec",
        action="store_true",
        dest="exec_hooks",
        help="answer exec (restore hooks, kubectl exec) through kwok, which runs each command ON THIS "
        "MACHINE in STATE/exec; without it exec fails as on a node whose kubelet is down",
    )
    up.set_defaults(handler=run_up)
    build = add_verb(
        sub,
        "build",
        help="build (or find) the control plane's programs",
        description="Find kube-apiserver, etcd, kube-controller-manager and kube-scheduler in "
        "KUBEBUILDER_ASSETS, else build them once from Kubernetes' Go modules into the cache "
        "($RESTOREFLOW_CACHE, ~/.cache/restoreflow); print where each comes from.",
        epilog="examples:\n  restoreflow cluster build                     # once, before going offline\n",
    )
    build.set_defaults(handler=run_build)
    down = add_verb(
        sub,
        "down",
        help="stop the control plane",
        description="Stop every component.",
        epilog="examples:\n  restoreflow cluster down --state /tmp/plane\n",
    )
    _state_flag(down)
    down.set_defaults(handler=run_down)
    status = add_verb(
        sub,
        "status",
        help="tell whether it runs",
        description="Tell whether it runs.",
        epilog="examples:\n  restoreflow cluster status                    # exit 1 when it does not\n",
    )
    _state_flag(status)
    status.set_defaults(handler=run_status)


def _state_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state",
        metavar="DIR",
        help="state folder (default: $RESTOREFLOW_HOME/cluster, ~/.restoreflow/cluster)",
    )


def run_up(args: argparse.Namespace) -> int:
    from restoreflow.controlplane import BinariesError, ControlPlane, ControlPlaneError
    from restoreflow.controlplane.setup import SetupError

    plane = ControlPlane(args.state, args.kubeconfig)
    try:
        state = plane.start(velero_crds=args.velero_crds, exec_hooks=args.exec_hooks, say=_say)
    except (BinariesError, ControlPlaneError, SetupError) as err:
        raise CliError(str(err)) from None
    print(f"control plane {state.version} running at {state.server}")
    print(f"kubeconfig: {state.kubeconfig}")
    print(f"  export KUBECONFIG={state.kubeconfig}")
    print(
        f"logs: {plane.logs}; stop it with: restoreflow cluster down"
        + (f" --state {args.state}" if args.state else "")
    )
    return 0


def run_build(args: argparse.Namespace) -> int:
    from restoreflow.controlplane import BinariesError, find_binaries
    from restoreflow.controlplane.binaries import KWOK_VERSION, kwok_program

    try:
        binaries = find_binaries(say=_say)
        kwok = kwok_program(say=_say)
    except BinariesError as err:
        raise CliError(str(err)) from None
    for name, path in binaries.paths.items():
        print(f"{name:<24} {path}  ({binaries.origin[name]})")
    print(f"{'kwok':<24} {kwok}  (sigs.k8s.io/kwok {KWOK_VERSION}, for --exec)")
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_down(args: argparse.Namespace) -> int:
    from restoreflow.controlplane import ControlPlane

    plane = ControlPlane(args.state)
    if plane.state() is None:
        print(f"no control plane runs from {plane.state_dir}")
        return 0
    plane.stop()
    print("control plane stopped")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from restoreflow.controlplane import ControlPlane

    plane = ControlPlane(args.state)
    state = plane.state()
    if state is None:
        print(f"not running (no control plane started from {plane.state_dir})")
        return 1
    running = plane.running()
    ready = plane.ready()
    print(f"{'running' if ready and all(running.values()) else 'degraded'}: {state.server} ({state.version})")
    print(f"kubeconfig: {state.kubeconfig}")
    for name, alive in running.items():
        print(f"  {name:<24} {'running' if alive else 'stopped'}  pid {state.pids[name]}")
    return 0 if ready and all(running.values()) else 1
