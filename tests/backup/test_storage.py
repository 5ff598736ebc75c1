"""Opening a BSL, listing and reading backups, schedules, side files."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupBuilder, BackupError, BackupNotFound, BackupStorage, ScheduleHasNoBackup

from .tarballs import item, put_file

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def test_open_local_folder_as_path_and_file_url(tmp_path: Path) -> None:
    BackupBuilder("b1").write(str(tmp_path))
    for url in (str(tmp_path), f"file://{tmp_path}", tmp_path):
        assert [b.name for b in BackupStorage.open(url).list_backups()] == ["b1"]


def test_open_missing_local_folder_is_unreachable(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(BackupError) as caught:
        BackupStorage.open(str(missing))
    assert str(caught.value) == f"backup storage location {missing} is unreachable: no such directory"
    assert not missing.exists()


def test_open_creates_a_local_folder_when_asked(tmp_path: Path) -> None:
    BackupStorage.open(tmp_path / "new" / "bsl", create=True)
    assert (tmp_path / "new" / "bsl").is_dir()


def test_open_missing_bucket_is_unreachable(s3_location: tuple[str, dict[str, Any]]) -> None:
    _, options = s3_location
    with pytest.raises(BackupError) as caught:
        BackupStorage.open("s3://no-such-bucket-here/velero", options)
    assert str(caught.value) == (
        "backup storage location s3://no-such-bucket-here/velero is unreachable: "
        "bucket 'no-such-bucket-here' does not exist"
    )


def test_open_unknown_protocol(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"^backup storage location nosuch://x cannot be opened: "):
        BackupStorage.open("nosuch://x")


def test_empty_location_has_no_backups(storage: BackupStorage) -> None:
    assert storage.list_backups() == []


def test_backup_record_fields(storage: BackupStorage) -> None:
    b = BackupBuilder(
        "nightly-20261120010000",
        schedule="nightly",
        start=T0,
        completion=T0 + timedelta(minutes=3),
        included_namespaces=["shop", "tools"],
        excluded_namespaces=["kube-system"],
        included_resources=["*"],
        excluded_resources=["events"],
        storage_location="primary",
    )
    b.add(item("Pod", "p", "shop"))
    b.write(storage)
    record = storage.get_backup("nightly-20261120010000")
    assert record.name == "nightly-20261120010000"
    assert record.phase == "Completed"
    assert record.schedule_name == "nightly"
    assert record.start_timestamp == T0
    assert record.completion_timestamp == T0 + timedelta(minutes=3)
    assert record.expiration == T0 + timedelta(hours=720)
    assert record.format_version == "1.1.0"
    assert record.included_namespaces == ("shop", "tools")
    assert record.excluded_namespaces == ("kube-system",)
    assert record.included_resources == ("*",)
    assert record.excluded_resources == ("events",)
    assert record.storage_location == "primary"
    assert record.raw["kind"] == "Backup"
    assert record.raw["apiVersion"] == "velero.io/v1"
    assert record.raw["metadata"]["labels"]["velero.io/schedule-name"] == "nightly"
    assert record.raw["status"]["progress"] == {"totalItems": 1, "itemsBackedUp": 1}


def test_list_backups_sorted_and_skips_non_backups(storage: BackupStorage) -> None:
    for name in ("zeta", "alpha", "mid"):
        BackupBuilder(name).write(storage)
    put_file(storage, storage.path("backups", "not-a-backup", "readme.txt"), b"hello")
    put_file(storage, storage.path("backups", "damaged", "velero-backup.json"), b"{oops")
    assert [b.name for b in storage.list_backups()] == ["alpha", "mid", "zeta"]


def test_get_unknown_backup(storage: BackupStorage) -> None:
    with pytest.raises(BackupNotFound) as caught:
        storage.get_backup("nope")
    assert str(caught.value) == f'backup "nope" not found in backup storage location {storage.url}'
    assert caught.value.name == "nope"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"{oops",
            "invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b"[]", "expected a JSON object, got array"),
        (b'{"status": "Completed"}', "status: expected a JSON object, got string"),
    ],
)
def test_corrupt_backup_record_names_the_file(storage: BackupStorage, content: bytes, problem: str) -> None:
    path = storage.backup_path("bad", "velero-backup.json")
    put_file(storage, path, content)
    with pytest.raises(BackupError) as caught:
        storage.get_backup("bad")
    assert str(caught.value) == f"{storage.display(path)}: {problem}"


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".", "", " padded"])
def test_names_that_could_leave_the_folder_are_refused(storage: BackupStorage, name: str) -> None:
    with pytest.raises(BackupError, match=r"^invalid backup name "):
        storage.get_backup(name)
    with pytest.raises(BackupError, match=r"^invalid restore name "):
        storage.restores.get(name)


# schedules -----------------------------------------------------------------------------------


def write_scheduled(storage: BackupStorage, name: str, schedule: str, start: datetime, phase: str) -> None:
    BackupBuilder(name, schedule=schedule, start=start, phase=phase).write(storage)


def test_latest_completed_backup_of_schedule(storage: BackupStorage) -> None:
    write_scheduled(storage, "nightly-1", "nightly", T0, "Completed")
    write_scheduled(storage, "nightly-2", "nightly", T0 + timedelta(days=1), "Completed")
    write_scheduled(storage, "nightly-3", "nightly", T0 + timedelta(days=2), "PartiallyFailed")
    write_scheduled(storage, "nightly-4", "nightly", T0 + timedelta(days=3), "InProgress")
    write_scheduled(storage, "hourly-9", "hourly", T0 + timedelta(days=9), "Completed")
    BackupBuilder("manual", start=T0 + timedelta(days=10)).write(storage)
    assert storage.latest_backup_of_schedule("nightly").name == "nightly-2"
    assert storage.latest_backup_of_schedule("hourly").name == "hourly-9"


def test_latest_uses_start_time_not_name(storage: BackupStorage) -> None:
    write_scheduled(storage, "b-zzz", "s", T0, "Completed")
    write_scheduled(storage, "b-aaa", "s", T0 + timedelta(hours=1), "Completed")
    assert storage.latest_backup_of_schedule("s").name == "b-aaa"


def test_schedule_without_backups(storage: BackupStorage) -> None:
    write_scheduled(storage, "other-1", "other", T0, "Completed")
    with pytest.raises(ScheduleHasNoBackup) as caught:
        storage.latest_backup_of_schedule("nightly")
    assert str(caught.value) == "No backups found for schedule"
    assert isinstance(caught.value, BackupNotFound)


def test_schedule_without_completed_backups(storage: BackupStorage) -> None:
    write_scheduled(storage, "nightly-1", "nightly", T0, "Failed")
    write_scheduled(storage, "nightly-2", "nightly", T0 + timedelta(days=1), "PartiallyFailed")
    with pytest.raises(ScheduleHasNoBackup) as caught:
        storage.latest_backup_of_schedule("nightly")
    assert str(caught.value) == "No completed backups found for schedule"


def test_a_second_handle_sees_new_backups(bsl: tuple[str, dict[str, Any]]) -> None:
    url, options = bsl
    reader = BackupStorage.open(url, options)
    assert reader.list_backups() == []
    separate = options | {"skip_instance_cache": True} if options else options
    BackupBuilder("b1").write(BackupStorage.open(url, separate))
    assert [b.name for b in reader.list_backups()] == ["b1"]
    BackupBuilder("b2").write(url, options)
    assert [b.name for b in reader.list_backups()] == ["b1", "b2"]
    assert reader.get_backup("b2").name == "b2"


# side files ----------------------------------------------------------------------------------

SIDE_FILES = {
    "volume_snapshots": "volumesnapshots.json.gz",
    "pod_volume_backups": "podvolumebackups.json.gz",
    "csi_volume_snapshots": "csi-volumesnapshots.json.gz",
    "csi_volume_snapshot_contents": "csi-volumesnapshotcontents.json.gz",
    "csi_volume_snapshot_classes": "csi-volumesnapshotclasses.json.gz",
    "volume_info": "volumeinfo.json.gz",
    "item_operations": "itemoperations.json.gz",
    "resource_list": "resource-list.json.gz",
    "backup_results": "results.gz",
}


def test_side_files_written_by_the_builder_read_back(storage: BackupStorage) -> None:
    snapshot = {
        "spec": {"persistentVolumeName": "pv-1", "providerVolumeID": "vol-1"},
        "status": {"phase": "Completed"},
    }
    pvb = {"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup", "metadata": {"name": "pvb-1"}}
    info = {"pvcName": "data", "pvcNamespace": "shop", "pvName": "pv-1", "backupMethod": "NativeSnapshot"}
    vs = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": "vs-1"}}
    vsc = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotContent",
        "metadata": {"name": "c"},
    }
    vsclass = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotClass",
        "metadata": {"name": "k"},
    }
    operation = {"spec": {"operationID": "op-1"}, "status": {"phase": "Completed"}}
    b = BackupBuilder("b1")
    b.add(item("Pod", "p", "shop"))
    b.add(item("Namespace", "shop"))
    b.add_volume_snapshot(snapshot)
    b.add_pod_volume_backup(pvb)
    b.add_volume_info(info)
    b.add_csi_volume_snapshot(vs)
    b.add_csi_volume_snapshot_content(vsc)
    b.add_csi_volume_snapshot_class(vsclass)
    b.add_item_operation(operation)
    b.results = {"warnings": {"namespaces": {"shop": ["careful"]}}}
    record = b.write(storage)
    assert storage.volume_snapshots(record) == [snapshot]
    assert storage.pod_volume_backups(record) == [pvb]
    assert storage.volume_info("b1") == [info]
    assert storage.csi_volume_snapshots(record) == [vs]
    assert storage.csi_volume_snapshot_contents(record) == [vsc]
    assert storage.csi_volume_snapshot_classes(record) == [vsclass]
    assert storage.item_operations(record) == [operation]
    assert storage.resource_list(record) == {"v1/Namespace": ["shop"], "v1/Pod": ["shop/p"]}
    assert storage.backup_results(record) == {"warnings": {"namespaces": {"shop": ["careful"]}}}
    assert "Backup completed" in storage.backup_logs(record)


@pytest.mark.parametrize("kind", sorted(SIDE_FILES))
def test_missing_side_file_is_empty(storage: BackupStorage, kind: str) -> None:
    BackupBuilder("b1").write(storage)
    storage.fs.rm_file(storage.backup_path("b1", f"b1-{SIDE_FILES[kind]}"))
    expected = {} if kind in ("resource_list", "backup_results") else []
    assert getattr(storage, kind)("b1") == expected


@pytest.mark.parametrize("kind", sorted(SIDE_FILES))
def test_side_file_holding_null_is_empty(storage: BackupStorage, kind: str) -> None:
    BackupBuilder("b1").write(storage)
    put_file(storage, storage.backup_path("b1", f"b1-{SIDE_FILES[kind]}"), gzip.compress(b"null\n"))
    expected = {} if kind in ("resource_list", "backup_results") else []
    assert getattr(storage, kind)("b1") == expected


@pytest.mark.parametrize("kind", sorted(SIDE_FILES))
def test_corrupt_side_files_name_the_file(storage: BackupStorage, kind: str) -> None:
    BackupBuilder("b1").write(storage)
    path = storage.backup_path("b1", f"b1-{SIDE_FILES[kind]}")
    where = storage.display(path)
    read = getattr(storage, kind)
    put_file(storage, path, b'[{"not": "gzipped"}]')
    with pytest.raises(BackupError) as caught:
        read("b1")
    assert str(caught.value) == f"{where}: not a valid gzip file: Not a gzipped file (b'[{{')"
    put_file(storage, path, gzip.compress(b"[{"))
    with pytest.raises(BackupError) as caught:
        read("b1")
    assert str(caught.value).startswith(f"{where}: invalid JSON: ")
    wrong = {} if kind not in ("resource_list", "backup_results") else []
    put_file(storage, path, gzip.compress(json.dumps(wrong).encode()))
    with pytest.raises(BackupError) as caught:
        read("b1")
    want, got = ("array", "object") if isinstance(wrong, dict) else ("object", "array")
    assert str(caught.value) == f"{where}: expected a JSON {want}, got {got}"


def test_truncated_side_file(storage: BackupStorage) -> None:
    BackupBuilder("b1").write(storage)
    path = storage.backup_path("b1", "b1-volumeinfo.json.gz")
    put_file(storage, path, gzip.compress(json.dumps([{"pvName": "x" * 500}]).encode())[:-12])
    with pytest.raises(BackupError, match=rf"^{storage.display(path)}: not a valid gzip file: "):
        storage.volume_info("b1")


def test_open_unreachable_endpoint(s3_server: str) -> None:
    fast_fail = {"endpoint_url": "http://127.0.0.1:9", "config_kwargs": {"retries": {"max_attempts": 1}}}
    with pytest.raises(BackupError) as caught:
        BackupStorage.open("s3://bucket/velero", fast_fail)
    assert str(caught.value).startswith(
        "backup storage location s3://bucket/velero is unreachable: Could not connect to the endpoint URL"
    )
