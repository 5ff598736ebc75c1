"""`restoreflow restore get|describe|logs|delete` over the records of a storage location."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from restoreflow.backup import BackupStorage
from restoreflow.backup.liveness import process_identity
from tests.cli.conftest import restore_status


def test_get_lists_restores_in_velero_columns(cli, bsl: BackupStorage) -> None:
    run = cli("restore", "get", "--storage-location", bsl.url)
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[0].split() == [
        "NAME", "BACKUP", "STATUS", "STARTED", "COMPLETED", "ERRORS", "WARNINGS", "CREATED", "SELECTOR"
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"shop-restore", "shop-partial", "bad-restore"}
    assert rows["shop-partial"].split()[:3] == ["shop-partial", "demo-backup", "PartiallyFailed"]
    assert "2026-11-25 11:00:00 +0000 UTC" in rows["shop-partial"]
    assert rows["shop-partial"].rstrip().endswith("app=web")
    assert rows["shop-restore"].rstrip().endswith("<none>")
    # Velero prints a missing start time as <nil> in the table
    assert rows["bad-restore"].split()[3] == "<nil>"
    # columns are aligned: every row's STATUS starts where the header's does
    status_column = lines[0].index("STATUS")
    assert all(line[status_column - 3 : status_column] == "   " for line in lines[1:])


def test_get_named_restores_and_selector(cli, bsl: BackupStorage) -> None:
    run = cli("restore", "get", "shop-restore", "--storage-location", bsl.url)
    assert [line.split()[0] for line in run.out.splitlines()[1:]] == ["shop-restore"]
    run = cli(
        "restore",
        "get",
        "-l",
        "team=shop",
        "--show-labels",
        "--label-columns",
        "team",
        "--storage-location",
        bsl.url,
    )
    lines = run.out.splitlines()
    assert lines[0].split()[-2:] == ["TEAM", "LABELS"]
    assert len(lines) == 2 and lines[1].split()[-2:] == ["shop", "team=shop"]


def test_get_json_is_the_record_and_yaml_lists(cli, bsl: BackupStorage) -> None:
    one = json.loads(cli("restore", "get", "shop-restore", "-o", "json", "--storage-location", bsl.url).out)
    assert one["kind"] == "Restore" and one["metadata"]["name"] == "shop-restore"
    assert one["status"]["phase"] == "Completed" and one["status"]["counts"]["created"] == 3
    many = YAML(typ="safe").load(cli("restore", "get", "-o", "yaml", "--storage-location", bsl.url).out)
    assert many["kind"] == "RestoreList"
    assert {item["metadata"]["name"] for item in many["items"]} == {
        "shop-restore",
        "shop-partial",
        "bad-restore",
    }


def test_storage_location_from_environment(cli, bsl: BackupStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTOREFLOW_STORAGE_LOCATION", bsl.url)
    assert "shop-restore" in cli("restore", "get").out


def test_errors_unknown_restore_and_unreachable_location(cli, bsl: BackupStorage, tmp_path) -> None:
    run = cli("restore", "get", "nope", "--storage-location", bsl.url)
    assert run.code == 1
    assert run.err.strip() == f'error: restore "nope" not found in backup storage location {bsl.url}'
    run = cli("restore", "describe", "nope", "--storage-location", bsl.url)
    assert run.code == 1 and 'restore "nope" not found' in run.err
    missing = tmp_path / "no-such-bsl"
    run = cli("restore", "get", "--storage-location", str(missing))
    assert run.code == 1
    assert run.err.strip() == f"error: backup storage location {missing} is unreachable: no such directory"
    run = cli("restore", "get")
    assert run.code == 1 and "pass --storage-location URL or set RESTOREFLOW_STORAGE_LOCATION" in run.err


def test_describe_completed(cli, bsl: BackupStorage) -> None:
    run = cli("restore", "describe", "shop-restore", "--storage-location", bsl.url)
    assert run.code == 0
    text = run.out
    assert text.startswith("Name:         shop-restore\n")
    assert "Phase:                       Completed\n" in text
    assert "Total items to be restored:  3\nItems restored:              3\n" in text
    assert "Started:    2026-11-25 10:00:00 +0000 UTC\nCompleted:  2026-11-25 10:00:07 +0000 UTC\n" in text
    assert "Backup:            demo-backup\n" in text
    assert "Namespaces:\n  Included:  shop\n  Excluded:  <none>\n" in text
    assert "Namespace mappings:  shop=shop-copy\n" in text
    assert "Restore PVs:  true\n" in text
    assert "ItemOperationTimeout:       4h0m0s\n" in text
    assert "HooksAttempted:   1\nHooksFailed:      0\n" in text
    assert "Warnings:" not in text and "Resource List" not in text


def test_describe_partially_failed_groups_problems_like_velero(cli, bsl: BackupStorage) -> None:
    text = cli("restore", "describe", "shop-partial", "--details", "--storage-location", bsl.url).out
    assert (
        "Phase:                       PartiallyFailed (run 'restoreflow restore logs shop-partial' for more"
        in text
    )
    assert (
        "Warnings:\n"
        "  Velero:     <none>\n"
        '  Cluster:  could not restore, CustomResourceDefinition "widgets.example.com" already exists\n'
        "  Namespaces: <none>\n"
    ) in text
    assert (
        "Errors:\n"
        "  Velero:   timed out waiting for all PodVolumeRestores to complete\n"
        "  Cluster:    <none>\n"
        "  Namespaces:\n"
        "    shop-copy:  error restoring pods/shop-copy/db-0: admission denied\n"
    ) in text
    assert "Label selector:  app=web\n" in text
    assert (
        "Resource List:\n  v1/Pod:\n    - shop-copy/db-0(failed)\n    - shop-copy/toolbox(created)\n" in text
    )


def test_describe_failed_validation(cli, bsl: BackupStorage) -> None:
    text = cli("restore", "describe", "bad-restore", "--storage-location", bsl.url).out
    assert "Started:    <n/a>\n" in text
    assert 'Validation errors:  backup "missing" not found in backup storage location bsl\n' in text


def test_describe_json_adds_results_and_resource_list(cli, bsl: BackupStorage) -> None:
    data = json.loads(
        cli(
            "restore", "describe", "shop-partial", "--details", "-o", "json", "--storage-location", bsl.url
        ).out
    )
    assert data["status"]["phase"] == "PartiallyFailed"
    assert data["results"]["errors"]["namespaces"]["shop-copy"] == [
        "error restoring pods/shop-copy/db-0: admission denied"
    ]
    assert data["resourceList"]["v1/Service"] == ["shop-copy/web(skipped)"]


def test_logs(cli, bsl: BackupStorage) -> None:
    run = cli("restore", "logs", "shop-restore", "--storage-location", bsl.url)
    assert run.code == 0 and 'msg="restore started" restore=shop-restore' in run.out
    run = cli("restore", "logs", "bad-restore", "--storage-location", bsl.url)
    assert run.code == 1
    assert 'Logs for restore "bad-restore" are not available until it\'s finished processing' in run.err
    run = cli("restore", "logs", "nope", "--storage-location", bsl.url)
    assert run.code == 1 and 'Restore "nope" does not exist.' in run.err


def test_delete_removes_the_record_only(cli, bsl: BackupStorage) -> None:
    run = cli("restore", "delete", "shop-restore", "--confirm", "--storage-location", bsl.url)
    assert run.code == 0 and run.out == 'Restore "shop-restore" deleted\n'
    assert not bsl.fs.exists(bsl.path("restores", "shop-restore"))
    assert bsl.fs.exists(bsl.path("restores", "shop-partial"))
    assert [b.name for b in bsl.list_backups()] == ["demo-backup", "nightly-20261124010000"]
    run = cli("restore", "delete", "shop-restore", "--confirm", "--storage-location", bsl.url)
    assert run.code == 1 and 'restore "shop-restore" not found' in run.err


def test_delete_all_with_selector(cli, bsl: BackupStorage) -> None:
    run = cli("restore", "delete", "-l", "team=shop", "--confirm", "--storage-location", bsl.url)
    assert run.out == 'Restore "shop-restore" deleted\n'
    run = cli("restore", "delete", "--all", "--confirm", "--storage-location", bsl.url)
    assert sorted(run.out.splitlines()) == ['Restore "bad-restore" deleted', 'Restore "shop-partial" deleted']
    assert (
        cli("restore", "delete", "--all", "--confirm", "--storage-location", bsl.url).out
        == "No restores found\n"
    )


def test_a_running_restore_is_not_deleted(cli, bsl: BackupStorage) -> None:
    """Its process would write the record again at its end: deleting it now would be a lie."""
    running = restore_status("running", "InProgress", process=process_identity())  # this live process
    bsl.restores.write_status("running", running)
    run = cli("restore", "delete", "running", "--confirm", "--storage-location", bsl.url)
    assert run.code == 1 and 'Restore "running" is InProgress: its record cannot be deleted' in run.err
    run = cli("restore", "delete", "--all", "--confirm", "--storage-location", bsl.url)
    assert run.code == 1 and 'Restore "running" is InProgress' in run.err
    assert 'Restore "shop-restore" deleted' in run.out  # the others are
    assert [r["metadata"]["name"] for r in bsl.restores.list()] == ["running"]


def test_delete_asks_for_confirmation(bsl: BackupStorage) -> None:
    entry = "import sys; from restoreflow.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [
        sys.executable,
        "-c",
        entry,
        "restore",
        "delete",
        "shop-restore",
        "--storage-location",
        bsl.url,
    ]
    refused = subprocess.run(command, input="n\n", capture_output=True, text=True, check=True)
    assert "Are you sure you want to continue (Y/N)? " in refused.stdout
    assert bsl.restores.exists("shop-restore")
    accepted = subprocess.run(command, input="maybe\ny\n", capture_output=True, text=True, check=True)
    assert 'Restore "shop-restore" deleted' in accepted.stdout
    assert not bsl.restores.exists("shop-restore")


def test_read_only_commands_never_import_prefect(bsl: BackupStorage) -> None:
    script = (
        "import sys\n"
        "from restoreflow.cli import main\n"
        "for argv in (['restore', 'get'], ['restore', 'describe', 'shop-partial', '--details'],\n"
        "             ['restore', 'logs', 'shop-restore'], ['backup', 'get'],\n"
        "             ['backup', 'describe', 'demo-backup']):\n"
        "    assert main([*argv, '--storage-location', sys.argv[1]]) == 0, argv\n"
        "assert 'prefect' not in sys.modules, 'prefect was imported'\n"
    )
    subprocess.run([sys.executable, "-c", script, bsl.url], check=True, capture_output=True)
