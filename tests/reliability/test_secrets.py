"""Secrets stay secret: after a restore through faults, from an S3 storage location, run by the CLI as
a Prefect flow, nothing restoreflow wrote holds a Secret's data or stringData value (plain or base64),
the kubeconfig's token or the storage credentials.

Scanned: every object in the storage location (gzip files unpacked), the terminal output of
`restore create --wait`, every log record of the process (restoreflow's and Prefect's), and the flow
run's Prefect artifacts, logs and events. Log records are restoreflow's and Prefect's at DEBUG;
botocore's own DEBUG lines print the access key id of a signed request, which is the library's.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter, LogFilterFlowRunId

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.cli import main
from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.proxy import FaultPlan, start_proxy
from tests.engine.helpers import kube_object, namespace
from tests.flow.harness import prefect_server, write_plan  # noqa: F401 (the session's Prefect server)
from tests.reliability.figures import report

pytestmark = [pytest.mark.usefixtures("prefect_server")]
OURS = ("restoreflow", "prefect")  # third-party debug logs (botocore's signed headers) are not ours


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def backup_objects(values: dict[str, str]) -> list[dict[str, Any]]:
    """Secrets of every shape: data, stringData, undecodable data, one that clashes with the cluster."""
    return [
        namespace("vault"),
        kube_object("v1", "Secret", "db", "vault", type="Opaque", data={"password": b64(values["data"])}),
        kube_object("v1", "Secret", "api", "vault", type="Opaque", stringData={"token": values["string"]}),
        kube_object(
            "v1", "Secret", "broken", "vault", type="Opaque", data={"key": f"%%{values['broken']}%%"}
        ),
        kube_object("v1", "Secret", "clash", "vault", type="Opaque", data={"key": b64(values["clash"])}),
        *(kube_object("v1", "ConfigMap", f"c{i}", "vault", data={"i": str(i)}) for i in range(40)),
    ]


def storage_texts(storage: BackupStorage, restore: str) -> dict[str, str]:
    """Every file the restore wrote to the storage location, as text."""
    found = {}
    for path in storage.fs.find(storage.path("restores", restore)):
        data = storage.fs.cat_file(path)
        found[path] = (gzip.decompress(data) if path.endswith(".gz") else data).decode("utf-8", "replace")
    return found


def prefect_texts(restore: str) -> dict[str, str]:
    """The restore's flow run in Prefect: its artifacts, logs and events."""
    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[restore])))
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[restore]))
        )
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
        query = {"filter": {"resource": {"id": [f"restoreflow.restore.{restore}"]}}, "limit": 50}
        events = client._client.post("/events/filter", json=query).json()["events"]
    texts = {f"artifact {a.key}": f"{a.data} {a.description}" for a in artifacts}
    texts["flow run logs"] = "\n".join(log.message for log in logs)
    texts["flow run state"] = f"{run.state_name} {run.state.message if run.state else ''}"
    texts["events"] = json.dumps(events)
    texts["parameters"] = json.dumps(run.parameters, default=str)
    return texts


def test_nothing_written_holds_a_secret(
    sandbox: Sandbox,
    s3_location: tuple[str, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tag = uuid.uuid4().hex[:12]
    values = {kind: f"{kind}-secret-{tag}" for kind in ("data", "string", "broken", "clash")}
    token, key_id, secret_key = f"token-{tag}", f"AKIA{tag.upper()}", f"storage-secret-{tag}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_key)
    monkeypatch.setenv("RESTOREFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RESTOREFLOW_STORAGE_LOCATION", raising=False)
    url, options = s3_location
    options = {**options, "skip_instance_cache": True}  # a client made with the credentials above
    builder = BackupBuilder("vault-backup")
    for obj in backup_objects(values):
        builder.add(obj)
    builder.write(url, options)
    existing = kube_object("v1", "Secret", "clash", "vault", type="Opaque", data={"key": b64("other")})
    sandbox.load([namespace("vault"), existing])
    restore = f"vault-{tag}"
    caplog.set_level(logging.DEBUG)

    with start_proxy(sandbox.url, faults=FaultPlan(rate=0.1, kinds=("429", "500", "reset")), seed=5) as proxy:
        kubeconfig = tmp_path / "kubeconfig"
        proxy.rewrite_kubeconfig(sandbox.kubeconfig, kubeconfig)
        config = yaml.safe_load(kubeconfig.read_text())
        config["users"][0]["user"]["token"] = token
        kubeconfig.write_text(json.dumps(config))
        plan = {
            "apiVersion": "restoreflow.dev/v1alpha1",
            "kind": "RestorePlan",
            "metadata": {"name": "vault"},
            "spec": {
                "source": {"storageLocation": url, "options": options, "backupName": "vault-backup"},
                "target": {"kubeconfig": str(kubeconfig)},
                "retries": {"api": {"attempts": 8, "initialBackoff": "10ms", "maxBackoff": "50ms"}},
            },
        }
        code = main(
            ["restore", "create", restore, "--plan", str(write_plan(tmp_path / "plan.yaml", plan)), "--wait"]
        )
        terminal = capsys.readouterr()
    assert code == 1, terminal.out + terminal.err  # PartiallyFailed: the broken Secret
    assert sum(proxy.injected.values()) > 0

    storage = BackupStorage.open(url, options)
    written = {
        "terminal": terminal.out + terminal.err,
        "log records": "\n".join(
            f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if r.name.startswith(OURS)
        ),
        **storage_texts(storage, restore),
        **prefect_texts(restore),
    }
    assert any(f"restore-{restore}-logs.gz" in place for place in written)  # the scan saw the record
    assert any("secrets/vault/broken" in text for text in written.values())  # and the broken one's error
    forbidden = {*values.values(), *(b64(v) for v in values.values()), token, key_id, secret_key}
    found = [(secret, place) for place, text in written.items() for secret in forbidden if secret in text]
    assert found == []
    report("secrets", places=len(written), secrets_found=len(found))
