"""kubectl's and velero's conventions: output formats, flag values, prompts, versions, help, exit codes."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.cli import build_parser, main
from restoreflow.sandbox import Sandbox

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))


def test_a_bool_flag_takes_its_value_only_after_equals(cli, bsl: BackupStorage) -> None:
    """`--include-cluster-resources NAME` leaves NAME to be the restore's name, as in velero."""
    argv = ["--from-backup", "demo-backup", "--storage-location", bsl.url, "-o", "json"]
    run = cli("restore", "create", "--include-cluster-resources", "my-restore", *argv)
    assert run.code == 0, run.err
    restore = json.loads(run.out)
    assert restore["metadata"]["name"] == "my-restore" and restore["spec"]["includeClusterResources"] is True
    off = json.loads(cli("restore", "create", "r2", "--include-cluster-resources=false", *argv).out)
    assert off["spec"]["includeClusterResources"] is False
    assert (
        json.loads(cli("restore", "create", "r3", "--restore-volumes=F", *argv).out)["spec"]["restorePVs"]
        is False
    )
    bad = cli_process("restore", "create", "r4", "--restore-volumes=maybe", *argv)
    assert bad.returncode == 2 and "--restore-volumes: ignored explicit argument 'maybe'" in bad.stderr


def test_describe_of_several_prints_a_list_like_get(cli, bsl: BackupStorage) -> None:
    where = ["--storage-location", bsl.url, "-o", "json"]
    described = json.loads(cli("restore", "describe", "shop-restore", "shop-partial", *where).out)
    listed = json.loads(cli("restore", "get", "shop-restore", "shop-partial", *where).out)
    assert described["kind"] == listed["kind"] == "RestoreList"
    assert [i["metadata"]["name"] for i in described["items"]] == ["shop-restore", "shop-partial"]
    one = json.loads(cli("restore", "describe", "shop-restore", *where).out)
    assert one["metadata"]["name"] == "shop-restore"  # one object bare, as kubectl and velero print it
    backups = json.loads(cli("backup", "describe", "demo-backup", "nightly-20261124010000", *where).out)
    assert backups["kind"] == "BackupList" and len(backups["items"]) == 2


def test_backup_get_on_an_empty_or_wrong_folder_says_so(cli, tmp_path: Path) -> None:
    run = cli("backup", "get", "--storage-location", str(tmp_path))
    assert run.code == 0 and run.out == ""
    assert run.err.startswith(f"No backups found in backup storage location {tmp_path}\n")
    assert "it has no backups/ folder" in run.err


def test_a_delete_prompt_answered_by_eof_refuses(bsl: BackupStorage) -> None:
    run = cli_process("restore", "delete", "shop-restore", "--storage-location", bsl.url, stdin="")
    assert run.returncode == 1
    assert "error: error reading user input: EOF" in run.stderr
    assert bsl.restores.exists("shop-restore")
    declined = cli_process("restore", "delete", "shop-restore", "--storage-location", bsl.url, stdin="n\n")
    assert declined.returncode == 0 and bsl.restores.exists("shop-restore")


def test_usage_errors_exit_2_with_the_usage_line() -> None:
    run = cli_process("restore", "get", "--output", "xml")
    assert run.returncode == 2
    assert run.stderr.startswith("usage: restoreflow restore get")
    assert "Traceback" not in run.stderr


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path the parser has, groups and the top level included."""
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


@pytest.mark.parametrize("verb", list(_commands(build_parser())), ids=" ".join)
def test_every_verb_has_an_example(verb: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*verb, "--help"])
    assert exit_info.value.code == 0
    examples = capsys.readouterr().out.split("\nexamples:\n", 1)[1]
    assert f"restoreflow {' '.join(verb)}".strip() in examples


def test_the_top_level_help_names_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    """Each group's line in `restoreflow --help` names all of its sub-verbs (restore unlock too)."""
    with pytest.raises(SystemExit):
        main(["--help"])
    lines = {
        line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("    ")
    }
    groups = {path for path in _commands(build_parser()) if len(path) == 1}
    assert set(lines) == {group for (group,) in groups}
    for path in _commands(build_parser()):
        if len(path) == 2:
            assert re.search(rf"[ :,]{re.escape(path[1])}(,|$)", lines[path[0]]), (path, lines[path[0]])


def test_version_names_client_prefect_and_cluster(sandbox: Sandbox, tmp_path: Path) -> None:
    run = cli_process("version", "--kubeconfig", sandbox.kubeconfig, "-o", "json", home=tmp_path)
    assert run.returncode == 0, run.stderr
    versions = json.loads(run.stdout)
    assert versions["client"]["restoreflow"] and versions["client"]["prefect"].startswith("3.")
    assert versions["cluster"] == {"version": "v1.33.0", "url": sandbox.url}
    assert versions["prefectServer"]["error"].startswith("<local server not running")


def cli_process(
    *argv: str, stdin: str | None = None, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it."""
    import os

    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.pop("RESTOREFLOW_STORAGE_LOCATION", None)
    if home is not None:
        env["RESTOREFLOW_HOME"] = str(home)
    return subprocess.run(
        [RESTOREFLOW, *argv], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )
