"""The CLI as a user meets it: each command a new process, wall time against the issue's targets.

- read-only commands (`plan validate`, `restore get`, `restore describe`, `backup get`): under 0.5 s,
  and they must not import Prefect (checked with Python's import log);
- `restore create --wait` of a 5-ConfigMap backup with restoreflow's local Prefect server up: under
  3 s, and the time from the command's start to the first item created in the cluster;
- the baseline measured in the same run: a bare `python -c pass`, the floor of any process.

Bytecode is cached between the commands as on a user's machine (a first command after installing
compiles every module it imports: several seconds for Prefect).

The sandbox runs in its own process; restoreflow's home (and its local Prefect server) is a
temporary folder, started before the timings (its first start, database migrations included, is
printed too) and stopped at the end.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from restoreflow.backup import BackupBuilder, BackupStorage, sample_backup
from restoreflow.sandbox import start_sandbox

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))
ROUNDS = 5
READ_TARGET = 0.5
RESTORE_TARGET = 3.0
ITEMS = 5
RESTORED = ("namespaces", "configmaps")  # the backup's items (not the preflight's access reviews)


def _env(home: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no Prefect settings, and compiled bytecode kept between commands (in a
    folder of the benchmark's own, so that the working tree gets no __pycache__)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RESTOREFLOW_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env | {"RESTOREFLOW_HOME": str(home), "PYTHONPYCACHEPREFIX": str(home / "pycache"), **extra}


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    run = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed: {run.stdout}{run.stderr}")
    return elapsed


def _median(argv: list[str], env: dict[str, str], rounds: int = ROUNDS) -> float:
    return statistics.median(_timed(argv, env) for _ in range(rounds))


def _imports_prefect(argv: list[str], env: dict[str, str]) -> bool:
    run = subprocess.run(argv, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, text=True)
    return any(line.rsplit("|", 1)[-1].strip() == "prefect" for line in run.stderr.splitlines())


def _backup(storage: BackupStorage) -> None:
    builder = BackupBuilder("five", included_namespaces=["bench"])
    builder.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
    for i in range(ITEMS - 1):
        config = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"c{i}", "namespace": "bench"},
        }
        builder.add({**config, "data": {"k": "v"}})
    builder.write(storage)


def _row(label: str, seconds: float, target: float | None, baseline: float, note: str = "") -> None:
    verdict = "" if target is None else ("  ok" if seconds < target else "  OVER TARGET")
    goal = f"target < {target:.1f} s" if target else ""
    print(f"  {label:<34} {seconds:6.2f} s  {seconds / baseline:5.1f}x baseline  {goal:<15}{verdict} {note}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp, start_sandbox(process=True) as sandbox:
        home = Path(tmp) / "home"
        storage = BackupStorage.open(Path(tmp) / "bsl", create=True)
        sample_backup(storage, "demo-backup")
        _backup(storage)
        env = _env(home, RESTOREFLOW_STORAGE_LOCATION=storage.url, KUBECONFIG=sandbox.kubeconfig)
        plan = Path(__file__).resolve().parents[1] / "plans" / "demo.yaml"

        baseline = _median([sys.executable, "-c", "pass"], env)
        print(f"  {'baseline: python -c pass':<34} {baseline:6.2f} s")
        first_start = _timed([RESTOREFLOW, "server", "start"], env)
        print(f"  {'local Prefect server, first start':<34} {first_start:6.2f} s  (once per home)")
        try:
            warm = ["restore", "create", "warm", "--from-backup", "five", "--wait"]
            _timed([RESTOREFLOW, *warm], env)  # bytecode and caches, as on a machine in use
            reads = {
                "plan validate": ["plan", "validate", str(plan)],
                "restore get": ["restore", "get"],
                "restore describe": ["restore", "describe", "warm"],
                "backup get": ["backup", "get"],
            }
            for label, argv in reads.items():
                seconds = _median([RESTOREFLOW, *argv], env)
                prefect = _imports_prefect([RESTOREFLOW, *argv], env)
                _row(label, seconds, READ_TARGET, baseline, "IMPORTS PREFECT" if prefect else "(no Prefect)")
            walls, firsts = [], []
            for i in range(3):
                sandbox.clear_requests()
                argv = [RESTOREFLOW, "restore", "create", f"five-{i}", "--from-backup", "five"]
                argv += ["--namespace-mappings", f"bench:bench-{i}", "--wait"]
                started = time.time()
                walls.append(_timed(argv, env))
                creates = [
                    r["time"]
                    for r in sandbox.requests()
                    if r["verb"] == "create" and r["resource"] in RESTORED
                ]
                firsts.append(min(creates) - started)
            _row(f"restore create --wait ({ITEMS} items)", statistics.median(walls), RESTORE_TARGET, baseline)
            _row("  time to the first item created", statistics.median(firsts), None, baseline)
        finally:
            subprocess.run([RESTOREFLOW, "server", "stop"], env=env, capture_output=True)
