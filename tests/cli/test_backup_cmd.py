"""`restoreflow backup get|describe` over local and S3 storage locations."""

from __future__ import annotations

import json

import pytest
from ruamel.yaml import YAML

from restoreflow.backup import BackupStorage, sample_backup


def test_get_table_in_velero_order(cli, bsl: BackupStorage) -> None:
    sample_backup(bsl, "nightly-20261125010000", schedule="nightly")
    run = cli("backup", "get", "--storage-location", bsl.url)
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "STATUS",
        "ERRORS",
        "WARNINGS",
        "CREATED",
        "EXPIRES",
        "STORAGE",
        "LOCATION",
        "SELECTOR",
    ]
    # a schedule's backups come newest first
    assert [line.split()[0] for line in lines[1:]] == [
        "demo-backup",
        "nightly-20261125010000",
        "nightly-20261124010000",
    ]
    assert lines[1].split()[1:4] == ["Completed", "0", "0"]
    assert "2026-11-24 01:00:00 +0000 UTC" in lines[1]


def test_get_json_yaml_and_named(cli, bsl: BackupStorage) -> None:
    one = json.loads(cli("backup", "get", "demo-backup", "-o", "json", "--storage-location", bsl.url).out)
    assert one["kind"] == "Backup" and one["metadata"]["name"] == "demo-backup"
    listing = YAML(typ="safe").load(cli("backup", "get", "-o", "yaml", "--storage-location", bsl.url).out)
    assert listing["kind"] == "BackupList" and len(listing["items"]) == 2


def test_describe(cli, bsl: BackupStorage) -> None:
    run = cli("backup", "describe", "demo-backup", "--details", "--storage-location", bsl.url)
    assert run.code == 0
    assert run.out.startswith("Name:         demo-backup\n")
    assert "Phase:  Completed\n" in run.out
    assert "Namespaces:\n  Included:  shop\n" in run.out
    assert "Backup Format Version:  1.1.0\n" in run.out
    assert "Resource List:\n" in run.out and "    - shop/web-config\n" in run.out
    brief = cli("backup", "describe", "demo-backup", "--storage-location", bsl.url).out
    assert "Resource List" not in brief
    data = json.loads(
        cli("backup", "describe", "demo-backup", "-o", "json", "--storage-location", bsl.url).out
    )
    assert data["status"]["phase"] == "Completed" and "podVolumeBackups" in data


def test_errors(cli, bsl: BackupStorage, tmp_path) -> None:
    run = cli("backup", "describe", "nope", "--storage-location", bsl.url)
    assert run.code == 1
    assert run.err.strip() == f'error: backup "nope" not found in backup storage location {bsl.url}'
    run = cli("backup", "get", "--storage-location", str(tmp_path / "gone"))
    assert run.code == 1 and "is unreachable: no such directory" in run.err


def test_s3_location(cli, s3_location, monkeypatch: pytest.MonkeyPatch) -> None:
    url, options = s3_location
    sample_backup(BackupStorage.open(url, options), "demo-backup")
    monkeypatch.setenv("AWS_ENDPOINT_URL", options["endpoint_url"])
    run = cli("backup", "get", "--storage-location", url)
    assert run.code == 0, run.err
    assert run.out.splitlines()[1].split()[:2] == ["demo-backup", "Completed"]
    missing = cli("backup", "get", "--storage-location", "s3://no-such-bucket-restoreflow/velero")
    assert missing.code == 1 and "no-such-bucket-restoreflow" in missing.err
