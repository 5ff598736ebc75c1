"""`restoreflow plan validate|show|schema|from-velero`: outputs, exit codes, and no Prefect import."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from restoreflow.cli import main
from restoreflow.plan import load_plan, load_plan_text, plan_schema, plan_to_document

ROOT = Path(__file__).resolve().parents[2]
PLANS = sorted(str(p) for p in (ROOT / "plans").glob("*.yaml"))
BROKEN = Path(__file__).parent / "broken"
VELERO = Path(__file__).parent / "velero"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_accepts_valid_plans(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "validate", *PLANS)
    assert code == 0
    assert out.splitlines() == [f"{p}: valid (plan {load_plan(p).name})" for p in PLANS]


def test_validate_lists_every_problem_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(BROKEN / "namespaces.yaml")
    code, out, _ = run(capsys, "plan", "validate", PLANS[0], broken)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("valid (plan demo)")
    assert lines[1] == (
        f"{broken}:7:24: spec.includedNamespaces[0]: Invalid included/excluded namespace lists: "
        "includes list must either contain '*' only, or a non-empty list of items"
    )
    assert len(lines) == 6 and "Traceback" not in out


def test_validate_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(BROKEN / "existing-resource-policy.yaml")
    code, out, _ = run(capsys, "plan", "validate", "-o", "json", PLANS[0], broken)
    assert code == 1
    assert json.loads(out) == {
        "valid": False,
        "files": [
            {"file": PLANS[0], "valid": True, "name": "demo", "problems": []},
            {
                "file": broken,
                "valid": False,
                "problems": [
                    {
                        "file": broken,
                        "line": 7,
                        "column": 27,
                        "path": "spec.existingResourcePolicy",
                        "message": "Invalid ExistingResourcePolicy: replace",
                    }
                ],
            },
        ],
    }


def test_validate_reports_unreadable_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "plan", "validate", str(tmp_path / "missing.yaml"))
    assert code == 1
    assert out == f"{tmp_path / 'missing.yaml'}: cannot read the plan: No such file or directory\n"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_show_prints_the_normalized_plan(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    path = str(ROOT / "plans" / "migration.yaml")
    code, out, _ = run(capsys, "plan", "show", path, "-o", fmt)
    assert code == 0
    shown = json.loads(out) if fmt == "json" else YAML(typ="safe").load(out)
    assert shown == plan_to_document(load_plan(path))
    assert shown["spec"]["timeouts"]["crdAvailable"] == "1m0s"
    assert shown["spec"]["apiGroupVersionPriorities"] == {"carts.shop.example.io": ["v2beta1", "v2beta2"]}


def test_show_yaml_is_itself_a_valid_plan_in_schema_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "show", str(ROOT / "plans" / "migration.yaml"))
    assert code == 0
    assert out.startswith("apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata:\n")
    assert "patchData: |\n" in out
    assert load_plan_text(out).spec == load_plan(ROOT / "plans" / "migration.yaml").spec


def test_show_of_an_invalid_plan_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "priorities.yaml"
    code, out, err = run(capsys, "plan", "show", str(path))
    assert (code, out) == (1, "")
    assert err == f'error: {path}:7:15: spec.priorities: multiple priority separator "-" found\n'


def test_schema_prints_the_packaged_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "schema")
    assert code == 0
    assert json.loads(out) == plan_schema()


def test_from_velero_prints_a_plan_that_validates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(
        capsys, "plan", "from-velero", str(VELERO / "restore.yaml"), "--storage-location", "s3://velero/prod"
    )
    assert (code, err) == (0, "")
    assert out.startswith("# yaml-language-server: $schema=../schemas/restore-plan.schema.json\n")
    plan = load_plan_text(out)
    assert plan.name == "shop-restore-20261124"
    assert plan.spec.source.storage_location == "s3://velero/prod"


def test_from_velero_takes_the_storage_location_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESTOREFLOW_STORAGE_LOCATION", "/srv/backups")
    code, out, _ = run(capsys, "plan", "from-velero", str(VELERO / "restore.yaml"), "-o", "json")
    assert code == 0
    assert json.loads(out)["spec"]["source"]["storageLocation"] == "/srv/backups"


def test_from_velero_without_storage_location_says_what_to_add(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESTOREFLOW_STORAGE_LOCATION", raising=False)
    code, out, err = run(capsys, "plan", "from-velero", str(VELERO / "restore.yaml"))
    assert code == 0
    assert "storageLocation" not in out
    assert "--storage-location" in err


def test_from_velero_of_an_invalid_restore_fails_with_positions(capsys: pytest.CaptureFixture[str]) -> None:
    path = VELERO / "invalid-restore.yaml"
    code, out, err = run(capsys, "plan", "from-velero", str(path), "--storage-location", "/backups")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == "error: invalid plan:"
    assert (
        err.splitlines()[-1]
        == f'{path}:11:3: spec.restorePV: unknown field "restorePV" (did you mean "restorePVs"?)'
    )


def heavy_modules_after(script: str) -> list[str]:
    """Top-level packages among prefect/kubernetes that a fresh interpreter imported running `script`."""
    report = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & HEAVY)))"
    probe = f"HEAVY = {{'prefect', 'kubernetes'}}\n{script}\n{report}"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_plan_commands_never_import_prefect() -> None:
    script = (
        "from restoreflow.cli import main\n"
        f"codes = [main(['plan', 'validate', *{PLANS!r}]), main(['plan', 'show', {PLANS[0]!r}]),\n"
        "         main(['plan', 'schema'])]\n"
        "assert codes == [0, 0, 0], codes"
    )
    assert "prefect" not in heavy_modules_after(script)


def test_the_plan_library_needs_neither_prefect_nor_kubernetes() -> None:
    script = f"from restoreflow.plan import load_plan\nload_plan({PLANS[0]!r})"
    assert heavy_modules_after(script) == []


def test_pre_commit_hook_validates_plans() -> None:
    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "restoreflow-plan-validate")
    assert hook["language"] == "python"
    command = shlex.split(hook["entry"])
    executable = Path(sys.executable).parent / command[0]
    good = subprocess.run(
        [str(executable), *command[1:], *PLANS], capture_output=True, text=True, timeout=120
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run(
        [str(executable), *command[1:], str(BROKEN / "source-both.yaml")], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "Either a backup or schedule" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


def test_a_plan_may_leave_its_storage_location_to_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "portable.yaml"
    plan.write_text(
        "apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata: {name: portable}\n"
        "spec:\n  source: {backupName: b1}\n"
    )
    monkeypatch.delenv("RESTOREFLOW_STORAGE_LOCATION", raising=False)
    code, out, _ = run(capsys, "plan", "validate", str(plan))
    assert code == 1 and "spec.source.storageLocation: required field is missing" in out

    monkeypatch.setenv("RESTOREFLOW_STORAGE_LOCATION", "s3://velero-backups/prod")
    assert run(capsys, "plan", "validate", str(plan))[0] == 0
    code, out, _ = run(capsys, "plan", "show", str(plan), "-o", "json")
    assert code == 0 and json.loads(out)["spec"]["source"]["storageLocation"] == "s3://velero-backups/prod"

    monkeypatch.delenv("RESTOREFLOW_STORAGE_LOCATION")
    assert run(capsys, "plan", "validate", str(plan), "--storage-location", "/srv/backups")[0] == 0
    code, out, _ = run(capsys, "plan", "show", str(plan), "--storage-location", "/srv/backups", "-o", "json")
    assert code == 0 and json.loads(out)["spec"]["source"]["storageLocation"] == "/srv/backups"
