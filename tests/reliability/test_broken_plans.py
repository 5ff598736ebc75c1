"""Broken plans, generated (hypothesis) and hand-written: each refused before anything is contacted,
with file, line, column, JSON path and what was expected; valid ones survive plan -> normalized
plan -> plan unchanged.

The generated cases start from a valid plan and break one field in a known way, so each must be
reported at that field: the problem's path is the field's JSON path and its line and column point at
the field's key or value in the file.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from restoreflow.cli import main
from restoreflow.plan import PlanError, load_plan, load_plan_text, plan_to_document
from restoreflow.plan.source import json_path
from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.proxy import FaultPlan, start_proxy
from tests.reliability.figures import report

HAND_WRITTEN = sorted((Path(__file__).parents[1] / "plan" / "broken").glob("*.yaml"))
REFUSED: set[str] = set()


def valid_plan() -> dict[str, Any]:
    return {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "drill"},
        "spec": {
            "source": {"storageLocation": "/backups", "backupName": "nightly"},
            "target": {"kubeconfig": "~/.kube/config", "context": "dr"},
            "includedNamespaces": ["shop"],
            "namespaceMapping": {"shop": "shop-drill"},
            "existingResourcePolicy": "none",
            "timeouts": {"crdAvailable": "1m", "terminatingResource": "10m"},
            "retries": {"api": {"attempts": 6, "requestTimeout": "30s"}},
            "concurrency": {"workers": 8, "qps": 50, "burst": 50},
            "restorePVs": True,
        },
    }


# (path to a field, values that field must refuse)
BREAKABLE: list[tuple[tuple[str | int, ...], list[Any]]] = [
    (("apiVersion",), ["restoreflow.dev/v2", 1, None]),
    (("kind",), ["Restore", ["RestorePlan"]]),
    (("metadata", "name"), ["Not_A_Name", "", 42, "x" * 300]),
    (("spec", "source", "storageLocation"), [17, ["s3://a"], {"url": "s3://a"}]),
    (("spec", "source", "backupName"), [3.5, ["nightly"], {"name": "nightly"}, "team/nightly", "../nightly"]),
    (
        ("spec", "source", "backupName"),
        ["/backups/nightly", "Nightly", "nightly/", "nightly\\..\\x", " nightly"],
    ),
    (("spec", "target", "kubeconfig"), [True, {"path": "x"}]),
    (("spec", "includedNamespaces"), ["shop", [1], {"shop": 1}, ["*", "shop"]]),
    (("spec", "includedNamespaces", 0), ["Bad_Namespace!", 12, None]),
    (("spec", "namespaceMapping"), [["shop"], "shop:drill", {"shop": 5}]),
    (("spec", "existingResourcePolicy"), ["sometimes", "Update", 1, True]),
    (("spec", "timeouts", "crdAvailable"), ["5 parsecs", "-1m", 60, "1x"]),
    (("spec", "timeouts", "terminatingResource"), ["forever", [], "10"]),
    (("spec", "retries", "api", "attempts"), [0, -3, "six", 2.5]),
    (("spec", "retries", "api", "requestTimeout"), ["soon", 5, {}]),
    (("spec", "concurrency", "workers"), [0, -1, "many", 1.5]),
    (("spec", "concurrency", "qps"), [-1, "fast"]),
    (("spec", "concurrency", "burst"), [-5, "lots", []]),
    (("spec", "restorePVs"), ["yes", 1, "true"]),
    (("spec", "excludedResources"), ["pods", [["pods"]], [{"name": "pods"}]]),
    (("spec", "labelSelector"), ["app=shop", {"matchLabels": "shop"}, {"matchLabels": {"app": 1}}]),
    (("spec", "includeClusterResources"), ["sometimes", 0]),
    (("spec", "preserveNodePorts"), ["no", []]),
    (("spec", "timeouts"), [[], "10m", {"fsBackupRestore": "4 hours"}]),
    (("spec", "concurrency"), ["fast", [8]]),
    (("metadata",), ["drill", ["drill"]]),
]
UNKNOWN_KEYS = [(), ("metadata",), ("spec",), ("spec", "source"), ("spec", "target"), ("spec", "concurrency")]
REQUIRED = [("apiVersion",), ("kind",), ("metadata",), ("spec",), ("spec", "source")]
CASES = (
    [("set", path, value) for path, values in BREAKABLE for value in values]
    + [("add", path, "surpriseField") for path in UNKNOWN_KEYS]
    + [("drop", path, None) for path in REQUIRED]
)


def broken(case: tuple[str, tuple[Any, ...], Any]) -> dict[str, Any]:
    action, path, value = case
    doc = valid_plan()
    parent: Any = doc
    for key in path[:-1] if action != "add" else path:
        parent = parent[key]
    if action == "set":
        parent[path[-1]] = value
    elif action == "add":
        parent[value] = "unexpected"
    else:
        del parent[path[-1]]
    return doc


def to_yaml(doc: Any) -> str:
    out = io.StringIO()
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(doc, out)
    return out.getvalue()


def starts_of(path: str, doc: Any) -> tuple[str, ...]:
    """What the text at a problem's place may start with: its key, its scalar, or a collection."""
    keys = re.findall(r"[^.\[\]]+", path)
    value = doc
    for key in keys:
        value = value[int(key)] if isinstance(value, list) else (value or {}).get(key)
    starts = ("-", "[", "{", "'", '"', *keys[-1:])
    if value is None:  # a missing field is placed at its parent, a null at the empty spot it leaves
        return ("",)
    if isinstance(value, dict) and value:
        return (*starts, next(iter(value)))
    if isinstance(value, bool):
        return (*starts, str(value).lower())
    return (*starts, str(value)) if isinstance(value, (str, int, float)) and str(value) else starts


def refused(path: Path) -> PlanError:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return caught.value


@pytest.mark.parametrize("case", CASES, ids=[f"{a}:{'.'.join(map(str, p))}={v!r}"[:60] for a, p, v in CASES])
def test_a_broken_field_is_reported_at_its_place(case: tuple[str, Any, Any], tmp_path: Path) -> None:
    action, path, value = case
    file = tmp_path / "plan.yaml"
    text = to_yaml(broken(case))
    file.write_text(text)
    problems = refused(file).problems
    field = (*path, value) if action == "add" else path
    wanted = json_path(field)
    parent = json_path(path[:-1]) if action == "drop" else None
    mine = [
        p
        for p in problems
        if p.path == wanted or p.path.startswith((wanted + ".", wanted + "[")) or p.path == parent
    ]
    assert mine, [str(p) for p in problems]
    lines = text.splitlines()
    doc = broken(case)
    for problem in problems:
        assert problem.file == str(file) and problem.line and problem.column and problem.message
        at = lines[problem.line - 1][problem.column - 1 :]
        assert at.startswith(starts_of(problem.path, doc)), (str(problem), at)
    REFUSED.add(f"generated {case!r}")


YAML_BOMBS = {
    "nested 1000 deep": "[" * 1000,
    "an alias containing itself": "apiVersion: &x [*x]\n",
    "a billion laughs": "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)),
    "a control character": "apiVersion: v1\n\x1f",
    "a NUL byte": "kind: \x00",
    "a merge key merging itself": "spec: &s {<<: *s}\n",
}


@pytest.mark.parametrize("text", YAML_BOMBS.values(), ids=YAML_BOMBS.keys())
def test_hostile_yaml_is_a_placed_syntax_error(text: str, tmp_path: Path) -> None:
    file = tmp_path / "plan.yaml"
    file.write_text(text)
    problems = refused(file).problems
    assert problems and all(p.line and p.column and p.message for p in problems), problems


def test_hand_written_broken_plans_are_refused_with_places() -> None:
    assert len(HAND_WRITTEN) >= 25
    for path in HAND_WRITTEN:
        for problem in refused(path).problems:
            assert problem.file == str(path) and problem.message
            assert problem.line is not None and problem.column is not None, problem
        REFUSED.add(f"hand-written {path.name}")


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([p for p, _ in BREAKABLE]), value=values)
def test_any_value_anywhere_is_accepted_or_refused_with_a_place(path: tuple[Any, ...], value: Any) -> None:
    doc = valid_plan()
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    text = to_yaml(doc)
    try:
        plan = load_plan_text(text, "generated.yaml")
    except PlanError as error:
        assert error.problems and all(p.line and p.column and p.path and p.message for p in error.problems)
        REFUSED.add(f"hypothesis {json.dumps(doc, sort_keys=True, default=str)}")
        return
    again = load_plan_text(to_yaml(plan_to_document(plan)), "normalized.yaml")
    assert plan_to_document(again) == plan_to_document(plan)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_plan_or_a_placed_problem(text: str) -> None:
    try:
        load_plan_text(text, "fuzz.yaml")
    except PlanError as error:
        assert error.problems and all(p.file == "fuzz.yaml" and p.message for p in error.problems)
        assert all(p.line and p.column for p in error.problems), error.problems


durations = st.sampled_from(["1s", "90s", "2m", "1h30m", "500ms", "4h"])


@settings(max_examples=40, deadline=None)
@given(
    workers=st.integers(1, 256),
    qps=st.floats(0.5, 1000, allow_nan=False),
    namespaces=st.lists(
        st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True), min_size=1, max_size=4, unique=True
    ),
    policy=st.sampled_from(["none", "update"]),
    timeout=durations,
    request_timeout=durations,
)
def test_valid_plans_round_trip_through_their_normalized_form(
    workers: int, qps: float, namespaces: list[str], policy: str, timeout: str, request_timeout: str
) -> None:
    doc = valid_plan()
    spec = doc["spec"]
    spec["includedNamespaces"] = namespaces
    spec["namespaceMapping"] = {namespaces[0]: "drill"}
    spec["existingResourcePolicy"] = policy
    spec["concurrency"] = {"workers": workers, "qps": qps, "burst": workers}
    spec["timeouts"]["crdAvailable"] = timeout
    spec["retries"]["api"]["requestTimeout"] = request_timeout
    plan = load_plan_text(to_yaml(doc), "valid.yaml")
    normalized = plan_to_document(plan)
    again = load_plan_text(to_yaml(normalized), "normalized.yaml")
    assert again == plan or plan_to_document(again) == normalized
    assert plan_to_document(again) == normalized
    assert again.spec == plan.spec


def test_a_broken_plan_contacts_nothing(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`restore create` with a broken plan: refused with its places, no request, nothing written."""
    location = tmp_path / "bsl"
    location.mkdir()
    with start_proxy(sandbox.url, faults=FaultPlan(rate=0.0)) as proxy:
        kubeconfig = proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig")
        doc = broken(("set", ("spec", "concurrency", "workers"), 0))
        doc["spec"]["source"]["storageLocation"] = str(location)
        doc["spec"]["target"] = {"kubeconfig": kubeconfig}
        plan = tmp_path / "plan.yaml"
        plan.write_text(to_yaml(doc))
        code = main(["restore", "create", "--plan", str(plan), "--wait"])
        out, err = capsys.readouterr()
    assert code != 0
    assert f"{plan}:" in out + err and "spec.concurrency.workers" in out + err
    assert "Traceback" not in out + err
    assert proxy.requests == 0
    assert list(location.iterdir()) == []


def test_the_corpus_holds_at_least_a_hundred_refused_plans() -> None:
    """Runs last in this file: counts what the tests above refused."""
    refused = len(CASES) + len(YAML_BOMBS) + len(HAND_WRITTEN)
    assert refused >= 100
    report("broken plans", refused=refused + len(REFUSED))
