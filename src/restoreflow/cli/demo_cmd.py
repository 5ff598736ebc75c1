"""`restoreflow demo` (`make demo`): restore the demo backup into a fresh sandbox through Prefect
(`--cluster real`, `make demo-real`: into a real control plane).

The demo's files live under `.demo/` in the working directory: the backup storage location
(`.demo/backups`) and the target's kubeconfig (`.demo/kubeconfig`). The flow runs on restoreflow's
local Prefect server (`restoreflow server`, started on first use; or PREFECT_API_URL), which keeps
running afterwards, so the link the demo prints opens the run in the Prefect UI.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from restoreflow.cli.common import CliError

DEMO_PLAN = Path("plans/demo.yaml")


EXAMPLES = """examples:
  restoreflow demo                      # a sample backup restored into a sandbox, in seconds
  restoreflow demo --cluster real --keep-cluster
"""


def register(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument(
        "--dir", default=".demo", type=Path, help="where the demo keeps its files (default .demo)"
    )
    parser.add_argument("--name", help="restore name (default demo-<YYYYMMDDHHMMSS>)")
    parser.add_argument(
        "--cluster",
        choices=("sandbox", "real"),
        default="sandbox",
        help="restore into the sandbox (default: starts in a second) or a real control plane "
        "(kube-apiserver, etcd, controllers, scheduler; built from Kubernetes' modules on first use)",
    )
    parser.add_argument(
        "--keep-cluster", action="store_true", help="with --cluster real: leave it running afterwards"
    )
    parser.set_defaults(handler=run_demo)


def _plan_parameter(workdir: Path) -> str:
    """plans/demo.yaml when run from the repository; the same plan inline anywhere else."""
    if DEMO_PLAN.is_file() and workdir == Path(".demo"):
        return str(DEMO_PLAN)
    return (
        "apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata: {name: demo}\nspec:\n"
        f"  source: {{storageLocation: {workdir / 'backups'}, backupName: demo-backup}}\n"
        f"  target: {{kubeconfig: {workdir / 'kubeconfig'}}}\n"
        "  includedNamespaces: [shop]\n  includeClusterResources: true\n"
        "  timeouts: {fsBackupRestore: 5m, hookWait: 1m}\n"
    )


def run_demo(args: argparse.Namespace) -> int:
    workdir: Path = args.dir
    workdir.mkdir(parents=True, exist_ok=True)
    from restoreflow.backup import BackupStorage, sample_backup

    started = time.monotonic()
    name = args.name or f"demo-{datetime.now(UTC):%Y%m%d%H%M%S}"
    storage = BackupStorage.open(workdir / "backups", create=True)
    backup = sample_backup(storage, "demo-backup")
    print(f"Wrote backup {backup.name} to {workdir / 'backups'}")
    with _target(args, workdir):
        state, run_url = _run_flow(storage, _plan_parameter(workdir), name)
        if args.cluster == "real":
            _show_restored(workdir / "kubeconfig")
    record = _read_record(storage, name)
    _print_outcome(storage, name, record, time.monotonic() - started, run_url)
    return 0 if state == "Completed" else 1


@contextlib.contextmanager
def _target(args: argparse.Namespace, workdir: Path) -> Iterator[None]:
    """The restore's target for the block, its kubeconfig at <dir>/kubeconfig (where the plan looks)."""
    kubeconfig = workdir / "kubeconfig"
    if args.cluster == "sandbox":
        from restoreflow.sandbox import start_sandbox

        with start_sandbox(velero_crds=True, kubeconfig=str(kubeconfig)) as sandbox:
            print(f"Sandbox API server (a local test double) at {sandbox.url}; kubeconfig {kubeconfig}")
            yield
        return
    from restoreflow.controlplane import BinariesError, ControlPlane, ControlPlaneError
    from restoreflow.controlplane.setup import SetupError

    plane = ControlPlane(workdir / "cluster", kubeconfig=str(kubeconfig))
    print("Starting a real control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler...")
    try:
        state = plane.start(velero_crds=True, exec_hooks=True, say=print)
    except (BinariesError, ControlPlaneError, SetupError) as err:
        raise CliError(str(err)) from None
    print(f"kube-apiserver {state.version} at {state.server}; kubeconfig {kubeconfig}")
    try:
        yield
    finally:
        if args.keep_cluster:
            print(f"The control plane keeps running: restoreflow cluster down --state {workdir / 'cluster'}")
        else:
            plane.stop()


def _show_restored(kubeconfig: Path) -> None:
    """What the restore left in the cluster, read back with the official client."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(kubeconfig))
    with api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        print("\nIn the cluster now (read with the kubernetes client):")
        for deploy in apps.list_namespaced_deployment("shop").items:
            ready = deploy.status.ready_replicas or 0
            print(f"  deployment/{deploy.metadata.name:<20} {ready}/{deploy.spec.replicas} ready")
        for pod in core.list_namespaced_pod("shop").items:
            print(f"  pod/{pod.metadata.name:<27} {pod.status.phase} on {pod.spec.node_name}")
        for svc in core.list_namespaced_service("shop").items:
            print(f"  service/{svc.metadata.name:<23} {svc.spec.type} {svc.spec.cluster_ip}")
        for pvc in core.list_namespaced_persistent_volume_claim("shop").items:
            volume = pvc.spec.volume_name or ""
            print(f"  persistentvolumeclaim/{pvc.metadata.name:<9} {pvc.status.phase} {volume}")


def _run_flow(storage: Any, plan: str, name: str) -> tuple[str, str]:
    """Run the restore on the Prefect server with the live progress display; its phase and UI link."""
    from restoreflow.cli import submit
    from restoreflow.cli.progress import RestoreProgress

    api_url = submit.connect(verbose=False)
    print(f"Running the restore flow on the Prefect server at {api_url}")
    submission = submit.submit(name, {"plan": plan, "restore_name": name}, api_url, None)
    display = RestoreProgress(storage, name)
    try:
        return submit.run_here(submission), submission.ui_url
    finally:
        display.stop()


def _read_record(storage: Any, name: str) -> dict[str, Any]:
    from restoreflow.backup import BackupError

    try:
        return storage.restores.get(name)
    except BackupError as err:
        raise CliError(f"the restore left no record: {err}") from None


def _print_outcome(storage: Any, name: str, record: dict[str, Any], seconds: float, run_url: str) -> None:
    from restoreflow.describe import describe_restore

    print()
    records = storage.restores
    text = describe_restore(record, results=records.results(name), volume_info=records.volume_info(name))
    print(text, end="")
    print()
    print(f"Finished in {seconds:.0f}s. The restore record is in {storage.restores.url(name)}")
    location = storage.url
    print(f"  restoreflow restore describe {name} --details --storage-location {location}")
    print(f"  restoreflow restore logs {name} --storage-location {location}")
    print(f"The flow run, its phases and artifacts in the Prefect UI: {run_url}")
    print("(the local Prefect server keeps running: `restoreflow server status`, `restoreflow server stop`)")
    if not shutil.which("restoreflow"):
        print(f"restoreflow is in {Path(sys.executable).parent}: run `source .venv/bin/activate` first.")
