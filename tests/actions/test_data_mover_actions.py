"""The data mover's two actions against the sandbox through the real client: `velero.io/dataupload`
(DataUpload -> DataUploadResult ConfigMap) and the `snapshotMoveData` branch of
`velero.io/csi-pvc-restorer` (ConfigMap -> DataDownload, then its progress and cancel)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from restoreflow.actions.base import ActionError, OperationProgress
from restoreflow.actions.csi.pvc import CsiPvcRestorerAction
from restoreflow.actions.dataupload import DataUploadRetrieveAction
from restoreflow.cluster import Cluster
from restoreflow.plan.model import UploaderConfig
from tests.actions.views import View, make_plan, run

pytestmark = pytest.mark.sandbox(velero_crds=True, data_download_delay=60)  # no data mover at work

UID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
BACKUP = {"spec": {"storageLocation": "default", "csiSnapshotTimeout": "10m0s", "snapshotMoveData": True}}
LONG = "a-namespace-whose-name-is-long-enough"  # with a long claim name: over 63 characters


def view(cluster: Cluster, backup: dict[str, Any] | None = None, **spec: Any) -> View:
    return View(make_plan(**spec), cluster=cluster, backup=BACKUP if backup is None else backup)


def data_upload(namespace: str = "shop", pvc: str = "data", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "velero.io/v2alpha1",
        "kind": "DataUpload",
        "metadata": {"name": "backup-1-x7k2p", "namespace": "velero"},
        "spec": {"sourcePVC": pvc, "sourceNamespace": namespace, "datamover": "velero"},
        "status": {"phase": "Completed", **status},
    }


def result_config_maps(sandbox: Any) -> list[dict[str, Any]]:
    """The ConfigMaps of the Velero namespace but its kube-root-ca.crt."""
    return [cm for cm in sandbox.objects("configmaps", "velero") if cm["metadata"].get("labels")]


# --- velero.io/dataupload -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(
            {"snapshotID": "s-1", "progress": {"totalBytes": 2048}, "nodeOS": "linux"},
            {
                "backupStorageLocation": "default",
                "datamover": "velero",
                "snapshotID": "s-1",
                "sourceNamespace": "shop",
                "nodeOS": "linux",
                "snapshotSize": 2048,
            },
            id="complete",
        ),
        pytest.param(
            {"snapshotID": "s-2", "dataMoverResult": {"k": "v"}},
            {
                "backupStorageLocation": "default",
                "datamover": "velero",
                "snapshotID": "s-2",
                "sourceNamespace": "shop",
                "dataMoverResult": {"k": "v"},
            },
            id="data-mover-result",
        ),
        pytest.param(
            {},
            {"backupStorageLocation": "default", "datamover": "velero", "sourceNamespace": "shop"},
            id="empty-fields-left-out",
        ),
    ],
)
def test_data_upload_becomes_a_result_config_map(
    sandbox: Any, cluster: Cluster, status: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = run(DataUploadRetrieveAction(), data_upload(**status), view=view(cluster))
    assert result.skip_restore is True
    [config_map] = result_config_maps(sandbox)
    assert config_map["metadata"]["name"].startswith("backup-1-x7k2p-")
    assert config_map["metadata"]["labels"] == {
        "velero.io/restore-uid": UID,
        "velero.io/pvc-namespace-name": "shop.data",
        "velero.io/resource-usage": "DataUpload",
    }
    assert json.loads(config_map["data"][UID]) == expected


def test_long_claim_names_are_shortened_in_the_label(sandbox: Any, cluster: Cluster) -> None:
    run(DataUploadRetrieveAction(), data_upload(LONG, "claim-with-a-very-long-name"), view=view(cluster))
    [config_map] = result_config_maps(sandbox)
    label = config_map["metadata"]["labels"]["velero.io/pvc-namespace-name"]
    assert len(label) == 63 and label.startswith(f"{LONG}.claim-with-a-ve")


def test_data_upload_without_velero_namespace_fails_the_item(cluster: Cluster) -> None:
    plan_view = view(cluster, transforms={"velero_namespace": "velero-missing"})
    with pytest.raises(ActionError, match=r"^fail to create DataUploadResult ConfigMap: .*not found"):
        run(DataUploadRetrieveAction(), data_upload(), view=plan_view)


# --- velero.io/csi-pvc-restorer with snapshotMoveData ----------------------------------------------


def claim(annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "data",
            "namespace": "shop",
            "uid": "uid-data",
            "annotations": annotations or {},
        },
        "spec": {"volumeName": "pv-1", "storageClassName": "standard", **spec},
    }


MOVED = {"velero.io/data-upload-name": "backup-1-x7k2p"}


def result_config_map(name: str, data: dict[str, str], namespace: str = "shop") -> dict[str, Any]:
    labels = {
        "velero.io/restore-uid": UID,
        "velero.io/pvc-namespace-name": f"{namespace}.data",
        "velero.io/resource-usage": "DataUpload",
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "velero", "labels": labels},
        "data": data,
    }


RESULT = {
    UID: json.dumps(
        {
            "backupStorageLocation": "default",
            "datamover": "velero",
            "snapshotID": "s-1",
            "sourceNamespace": "shop",
            "nodeOS": "linux",
            "snapshotSize": 2048,
        }
    )
}


@pytest.mark.parametrize(
    ("backup", "annotations"),
    [
        pytest.param({"spec": {"snapshotMoveData": True}}, {}, id="claim-without-data-upload"),
        pytest.param({"spec": {}}, MOVED, id="backup-without-snapshot-move-data"),
    ],
)
def test_claims_the_data_mover_did_not_move_are_unchanged(
    sandbox: Any, cluster: Cluster, backup: dict[str, Any], annotations: dict[str, str]
) -> None:
    result = run(CsiPvcRestorerAction(), claim(annotations), view=view(cluster, backup))
    assert result.operation_id == "" and result.item["spec"]["volumeName"] == "pv-1"
    assert sandbox.objects("datadownloads.velero.io", "velero") == []


def test_moved_claim_starts_a_data_download(sandbox: Any, cluster: Cluster) -> None:
    sandbox.load([result_config_map("cm-1", RESULT)])
    selector = {"matchLabels": {"app": "db"}}
    result = run(CsiPvcRestorerAction(), claim(MOVED, selector=selector), view=view(cluster))

    assert result.operation_id == f"dd-{UID}.uid-data"
    assert "volumeName" not in result.item["spec"]
    labels = result.item["spec"]["selector"]["matchLabels"]
    assert labels["app"] == "db"
    assert labels["velero.io/dynamic-pv-restore"].startswith("shop.data.")
    assert len(labels["velero.io/dynamic-pv-restore"]) == len("shop.data.") + 5
    [download] = sandbox.objects("datadownloads.velero.io", "velero")
    assert download["metadata"]["generateName"] == "restore-1-"
    assert download["metadata"]["labels"] == {
        "velero.io/restore-name": "restore-1",
        "velero.io/restore-uid": UID,
        "velero.io/async-operation-id": result.operation_id,
    }
    assert download["spec"] == {
        "targetVolume": {"pvc": "data", "pv": "", "namespace": "shop"},
        "backupStorageLocation": "default",
        "datamover": "velero",
        "snapshotID": "s-1",
        "sourceNamespace": "shop",
        "operationTimeout": "10m0s",
        "nodeOS": "linux",
        "snapshotSize": 2048,
    }


def test_remapped_claim_is_downloaded_into_the_target_namespace(sandbox: Any, cluster: Cluster) -> None:
    sandbox.load([result_config_map("cm-1", RESULT)])
    plan_view = view(
        cluster,
        namespace_mapping={"shop": "drill"},
        uploader_config=UploaderConfig(write_sparse_files=True, parallel_files_download=4),
    )
    result = run(CsiPvcRestorerAction(), claim(MOVED), view=plan_view)
    [download] = sandbox.objects("datadownloads.velero.io", "velero")
    assert download["spec"]["targetVolume"] == {"pvc": "data", "pv": "", "namespace": "drill"}
    assert download["spec"]["dataMoverConfig"] == {"WriteSparseFiles": "true", "ParallelFilesDownload": "4"}
    label = result.item["spec"]["selector"]["matchLabels"]["velero.io/dynamic-pv-restore"]
    assert label.startswith("drill.data.")


@pytest.mark.parametrize(
    ("config_maps", "error"),
    [
        pytest.param([], "no DataUpload result cm found with labels {selector}", id="none"),
        pytest.param(
            [result_config_map("cm-1", RESULT), result_config_map("cm-2", RESULT)],
            "multiple DataUpload result cms found with labels {selector}",
            id="two",
        ),
        pytest.param(
            [result_config_map("cm-1", {"another-restore": "{}"})],
            f"no DataUpload result found with restore key {UID}, restore restore-1",
            id="other-restore",
        ),
        pytest.param(
            [result_config_map("cm-1", {UID: "{not json"})],
            f"error to unmarshal DataUploadResult, restore UID {UID}, restore name restore-1",
            id="not-json",
        ),
    ],
)
def test_data_upload_result_lookup_errors(
    sandbox: Any, cluster: Cluster, config_maps: list[dict[str, Any]], error: str
) -> None:
    sandbox.load([result_config_map("elsewhere", RESULT, namespace="other"), *config_maps])
    selector = (
        f"velero.io/pvc-namespace-name=shop.data,velero.io/restore-uid={UID},"
        "velero.io/resource-usage=DataUpload"
    )
    with pytest.raises(ActionError) as raised:
        run(CsiPvcRestorerAction(), claim(MOVED), view=view(cluster))
    expected = "fail get DataUploadResult for restore: restore-1: " + error.format(selector=selector)
    assert str(raised.value) == expected
    assert sandbox.objects("datadownloads.velero.io", "velero") == []


def download(phase: str | None, operation: str = "op-1", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "velero.io/v2alpha1",
        "kind": "DataDownload",
        "metadata": {
            "name": f"restore-1-{operation}",
            "namespace": "velero",
            "labels": {"velero.io/async-operation-id": operation},
        },
        "spec": {"targetVolume": {"pvc": "data", "pv": "", "namespace": "shop"}},
        "status": {"phase": phase, **status} if phase else {},
    }


STARTED = datetime(2026, 5, 20, 10, 0, 0, tzinfo=UTC)
DONE = datetime(2026, 5, 20, 10, 0, 42, tzinfo=UTC)
TIMES = {"startTimestamp": "2026-05-20T10:00:00Z", "completionTimestamp": "2026-05-20T10:00:42Z"}
HALF = {"progress": {"totalBytes": 2048, "bytesDone": 1024}, "startTimestamp": "2026-05-20T10:00:00Z"}
FULL = {"progress": {"totalBytes": 2048, "bytesDone": 2048}, **TIMES}


def bytes_report(phase: str, done: int, **fields: Any) -> OperationProgress:
    return OperationProgress(
        description=phase, operation_units="Bytes", n_completed=done, n_total=2048, **fields
    )


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(download(None), OperationProgress(), id="not-picked-up"),
        pytest.param(download("New"), OperationProgress(), id="new"),
        pytest.param(
            download("Accepted"),
            OperationProgress(description="Accepted", operation_units="Bytes"),
            id="accepted",
        ),
        pytest.param(
            download("InProgress", **HALF),
            bytes_report("InProgress", 1024, started=STARTED),
            id="in-progress",
        ),
        pytest.param(
            download("Completed", **FULL),
            bytes_report("Completed", 2048, completed=True, started=STARTED, updated=DONE),
            id="completed",
        ),
        pytest.param(
            download("Failed", message="data path restore failed: boom", **HALF),
            bytes_report(
                "Failed", 1024, completed=True, error="data path restore failed: boom", started=STARTED
            ),
            id="failed",
        ),
        pytest.param(
            download("Canceled", **HALF),
            bytes_report("Canceled", 1024, completed=True, error="DataDownload is canceled", started=STARTED),
            id="canceled",
        ),
    ],
)
def test_progress_reports_the_data_download(
    sandbox: Any, cluster: Cluster, obj: dict[str, Any], expected: OperationProgress
) -> None:
    sandbox.load([obj, download("InProgress", "op-2", **HALF)])
    assert CsiPvcRestorerAction().progress("op-1", view(cluster)) == expected


@pytest.mark.parametrize(
    ("objects", "error"),
    [
        pytest.param([], "didn't find DataDownload", id="none"),
        pytest.param(
            [download("New"), {**download("New"), "metadata": {**download("New")["metadata"], "name": "b"}}],
            "find multiple DataDownloads",
            id="two",
        ),
    ],
)
def test_progress_without_exactly_one_data_download_is_an_error(
    sandbox: Any, cluster: Cluster, objects: list[dict[str, Any]], error: str
) -> None:
    sandbox.load(objects)
    with pytest.raises(ActionError, match=f"^{error}$"):
        CsiPvcRestorerAction().progress("op-1", view(cluster))


def test_cancel_asks_the_data_mover_to_stop(sandbox: Any, cluster: Cluster) -> None:
    sandbox.load([download("InProgress", **HALF), download("InProgress", "op-2", **HALF)])
    CsiPvcRestorerAction().cancel("op-1", view(cluster))
    assert sandbox.get("datadownloads.velero.io", "restore-1-op-1", "velero")["spec"]["cancel"] is True
    assert "cancel" not in sandbox.get("datadownloads.velero.io", "restore-1-op-2", "velero")["spec"]
