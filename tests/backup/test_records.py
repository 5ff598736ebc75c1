"""Restore records: Velero's files and formats, the status document, list/get/delete, atomicity."""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any

import pytest

from restoreflow.backup import BackupError, BackupStorage, RestoreNotFound

from .tarballs import put_file


def status_document(
    name: str, phase: str = "Completed", started: str = "2026-11-25T10:00:00Z"
) -> dict[str, Any]:
    return {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "Restore",
        "metadata": {"name": name},
        "spec": {"backupName": "nightly-1", "plan": "drill", "storageLocation": "default"},
        "status": {
            "phase": phase,
            "startTimestamp": started,
            "progress": {"totalItems": 3, "itemsRestored": 3},
            "counts": {"created": 2, "updated": 0, "skipped": 1, "failed": 0},
            "flowRunId": "c0ffee00-0000-4000-8000-000000000000",
        },
    }


RESULTS = {
    "warnings": {"namespaces": {"shop": ['could not restore, ConfigMap "a&b" already exists: <diff>']}},
    "errors": {"velero": ["boom"], "cluster": ["x"], "namespaces": {"b": ["2"], "a": ["1"]}},
}


def write_full(storage: BackupStorage, name: str, **overrides: Any) -> None:
    parts: dict[str, Any] = {
        "status": status_document(name),
        "results": RESULTS,
        "resource_list": {
            "v1/Pod": ["shop/web(created)", "shop/api(failed)"],
            "v1/Namespace": ["shop(created)"],
        },
        "logs": 'time="2026-11-25T10:00:00Z" level=info msg="starting restore"\n',
        "item_operations": [{"spec": {"operationID": "op-1"}, "status": {"phase": "Completed"}}],
        "volume_info": [{"pvcName": "data", "pvcNamespace": "shop", "restoreMethod": "PodVolumeRestore"}],
    }
    storage.restores.write(name, **(parts | overrides))


def raw(storage: BackupStorage, name: str, file: str) -> bytes:
    return storage.fs.cat_file(storage.path("restores", name, file))


def test_write_uses_velero_file_names(storage: BackupStorage) -> None:
    write_full(storage, "r1")
    folder = storage.path("restores", "r1")
    assert sorted(p.rsplit("/", 1)[1] for p in storage.fs.find(folder)) == [
        "r1-volumeinfo.json.gz",
        "restore-r1-itemoperations.json.gz",
        "restore-r1-logs.gz",
        "restore-r1-resource-list.json.gz",
        "restore-r1-results.gz",
        "restoreflow-restore.json",
    ]


def test_results_file_is_json_as_go_encodes_it(storage: BackupStorage) -> None:
    write_full(storage, "r1")
    data = gzip.decompress(raw(storage, "r1", "restore-r1-results.gz"))
    assert data == (
        b'{"errors":{"cluster":["x"],"namespaces":{"a":["1"],"b":["2"]},"velero":["boom"]},'
        b'"warnings":{"namespaces":{"shop":["could not restore, ConfigMap \\"a\\u0026b\\" already exists: '
        b'\\u003cdiff\\u003e"]}}}\n'
    )
    assert storage.restores.results("r1") == RESULTS


def test_resource_list_is_sorted(storage: BackupStorage) -> None:
    write_full(storage, "r1")
    data = gzip.decompress(raw(storage, "r1", "restore-r1-resource-list.json.gz"))
    assert data == b'{"v1/Namespace":["shop(created)"],"v1/Pod":["shop/api(failed)","shop/web(created)"]}\n'
    assert storage.restores.resource_list("r1") == {
        "v1/Namespace": ["shop(created)"],
        "v1/Pod": ["shop/api(failed)", "shop/web(created)"],
    }


def test_other_parts_read_back(storage: BackupStorage) -> None:
    write_full(storage, "r1", logs=b"binary \xc3\xa9 log\n")
    records = storage.restores
    assert records.logs("r1") == "binary é log\n"
    assert records.item_operations("r1") == [
        {"spec": {"operationID": "op-1"}, "status": {"phase": "Completed"}}
    ]
    assert records.volume_info("r1") == [
        {"pvcName": "data", "pvcNamespace": "shop", "restoreMethod": "PodVolumeRestore"}
    ]
    assert records.get("r1") == status_document("r1")
    assert json.loads(raw(storage, "r1", "restoreflow-restore.json")) == status_document("r1")


def test_empty_lists_and_results(storage: BackupStorage) -> None:
    write_full(storage, "r1", results={}, item_operations=[], volume_info=[], resource_list={})
    assert gzip.decompress(raw(storage, "r1", "restore-r1-results.gz")) == b"{}\n"
    assert gzip.decompress(raw(storage, "r1", "r1-volumeinfo.json.gz")) == b"[]\n"
    assert storage.restores.results("r1") == {}


def test_a_record_in_progress_has_only_its_status(storage: BackupStorage) -> None:
    records = storage.restores
    records.write_status("r1", status_document("r1", phase="InProgress"))
    assert records.get("r1")["status"]["phase"] == "InProgress"
    assert records.results("r1") == {}
    assert records.resource_list("r1") == {}
    assert records.logs("r1") == ""
    assert records.item_operations("r1") == []
    assert records.volume_info("r1") == []
    records.write_status("r1", status_document("r1", phase="Completed"))
    assert records.get("r1")["status"]["phase"] == "Completed"


def test_list_newest_first(storage: BackupStorage) -> None:
    records = storage.restores
    records.write_status("old", status_document("old", started="2026-11-01T00:00:00Z"))
    records.write_status("new", status_document("new", started="2026-11-25T00:00:00Z"))
    records.write_status("mid", status_document("mid", started="2026-11-10T00:00:00Z"))
    put_file(
        storage, storage.path("restores", "velero-only", "restore-velero-only-logs.gz"), gzip.compress(b"")
    )
    assert [d["metadata"]["name"] for d in records.list()] == ["new", "mid", "old"]


def test_list_of_empty_location(storage: BackupStorage) -> None:
    assert storage.restores.list() == []


def test_unknown_restore(storage: BackupStorage) -> None:
    with pytest.raises(RestoreNotFound) as caught:
        storage.restores.get("nope")
    assert str(caught.value) == f'restore "nope" not found in backup storage location {storage.url}'
    with pytest.raises(RestoreNotFound):
        storage.restores.delete("nope")
    assert not storage.restores.exists("nope")


def test_corrupt_status_document_names_the_file(
    storage: BackupStorage, caplog: pytest.LogCaptureFixture
) -> None:
    path = storage.path("restores", "r1", "restoreflow-restore.json")
    put_file(storage, path, b'{"kind": "Restore",')
    storage.restores.write_status("r2", status_document("r2"))
    with pytest.raises(BackupError, match=rf"^{storage.display(path)}: invalid JSON: "):
        storage.restores.get("r1")
    assert [d["metadata"]["name"] for d in storage.restores.list()] == ["r2"]
    assert f"skipping restore record: {storage.display(path)}: invalid JSON" in caplog.text


def test_corrupt_results_file_names_the_file(storage: BackupStorage) -> None:
    path = storage.path("restores", "r1", "restore-r1-results.gz")
    put_file(storage, path, b"plain text")
    with pytest.raises(BackupError, match=rf"^{storage.display(path)}: not a valid gzip file: "):
        storage.restores.results("r1")


def test_delete_removes_only_that_record(storage: BackupStorage) -> None:
    for name in ("r1", "r1x", "r"):
        write_full(storage, name)
    storage.restores.write_status("r1x", status_document("r1x"))
    removed = storage.restores.delete("r1")
    assert len(removed) == 6
    assert all("/restores/r1/" in path for path in removed)
    assert not storage.restores.exists("r1")
    assert [d["metadata"]["name"] for d in storage.restores.list()] == ["r1x", "r"]
    assert storage.restores.results("r1x") == RESULTS
    assert storage.fs.find(storage.path("restores", "r1")) == []


def test_delete_keeps_backups(storage: BackupStorage) -> None:
    from restoreflow.backup import BackupBuilder

    BackupBuilder("r1").write(storage)
    write_full(storage, "r1")
    storage.restores.delete("r1")
    assert storage.get_backup("r1").name == "r1"


def test_url_names_the_record_folder(storage: BackupStorage) -> None:
    url = storage.restores.url("r1")
    assert url.endswith("/restores/r1")
    assert url.startswith("s3://") or url.startswith("/")


def test_writes_leave_no_partial_files(storage: BackupStorage) -> None:
    for phase in ("New", "InProgress", "Completed"):
        storage.restores.write_status("r1", status_document("r1", phase))
    write_full(storage, "r1")
    names = [p.rsplit("/", 1)[1] for p in storage.fs.find(storage.path("restores", "r1"))]
    assert not [n for n in names if n.startswith(".") or "partial" in n]


def test_readers_never_see_a_half_written_file(storage: BackupStorage) -> None:
    """A reader polling while a writer replaces large results sees the old or new file, whole."""
    records = storage.restores
    big = [f"warning number {i} " + "x" * 200 for i in range(3000)]
    write_full(storage, "r1", results={"warnings": {"velero": big}})
    stop = threading.Event()
    failures: list[Exception] = []

    def read_loop() -> None:
        while not stop.is_set():
            try:
                records.results("r1")
                records.get("r1")
            except Exception as err:  # any exception here means a torn read
                failures.append(err)

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for round_ in range(15):
            write_full(storage, "r1", results={"warnings": {"velero": [*big, str(round_)]}})
    finally:
        stop.set()
        reader.join()
    assert failures == []
    assert records.results("r1")["warnings"]["velero"][-1] == "14"
