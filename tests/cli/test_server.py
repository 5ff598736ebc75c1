"""`restoreflow server`: what it says and does when no server of its own runs (starting one is in
test_cli_process.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))


def server(verb: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"RESTOREFLOW_HOME": str(home), "PREFECT_HOME": str(home / "client")}
    return subprocess.run([RESTOREFLOW, "server", verb], env=env, capture_output=True, text=True, timeout=60)


def test_a_recorded_pid_that_is_no_longer_the_server_is_left_alone(tmp_path: Path) -> None:
    """server.json outlived its server and the pid now belongs to another process: never signal it."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "prefect").mkdir()
        (tmp_path / "prefect" / "server.json").write_text(json.dumps({"pid": bystander.pid, "port": 4999}))
        status = server("status", tmp_path)
        assert status.returncode == 1
        assert status.stdout == f"Local Prefect server: stopped (home {tmp_path / 'prefect'})\n"
        stop = server("stop", tmp_path)
        assert stop.returncode == 0 and stop.stdout == "Local Prefect server not running.\n"
        assert bystander.poll() is None
        env = server("env", tmp_path)
        assert env.returncode == 1
        assert env.stderr == "error: the local Prefect server is not running: `restoreflow server start`\n"
    finally:
        bystander.kill()
        bystander.wait()
