"""JSON Patch (RFC 6902), JSON merge patch (RFC 7386) and the strategic merge patch."""

from __future__ import annotations

from typing import Any

import pytest

from restoreflow.kube.patches import (
    PatchError,
    PatchPathMissing,
    PatchTestFailed,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)

DOC = {"spec": {"replicas": 1, "list": ["a", "b"], "a/b": 1, "m~n": 2}}


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([{"op": "add", "path": "/spec/x", "value": 1}], {**DOC["spec"], "x": 1}),
        ([{"op": "add", "path": "/spec/list/1", "value": "z"}], {**DOC["spec"], "list": ["a", "z", "b"]}),
        ([{"op": "add", "path": "/spec/list/-", "value": "z"}], {**DOC["spec"], "list": ["a", "b", "z"]}),
        ([{"op": "remove", "path": "/spec/list/0"}], {**DOC["spec"], "list": ["b"]}),
        ([{"op": "replace", "path": "/spec/replicas", "value": 3}], {**DOC["spec"], "replicas": 3}),
        ([{"op": "replace", "path": "/spec/a~1b", "value": 5}], {**DOC["spec"], "a/b": 5}),
        ([{"op": "remove", "path": "/spec/m~0n"}], {k: v for k, v in DOC["spec"].items() if k != "m~n"}),
        (
            [{"op": "move", "from": "/spec/replicas", "path": "/spec/count"}],
            {**{k: v for k, v in DOC["spec"].items() if k != "replicas"}, "count": 1},
        ),
        ([{"op": "copy", "from": "/spec/replicas", "path": "/spec/count"}], {**DOC["spec"], "count": 1}),
        ([{"op": "test", "path": "/spec/replicas", "value": 1.0}], DOC["spec"]),
    ],
)
def test_json_patch_operations(ops: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert apply_json_patch(DOC, ops) == {"spec": expected}


@pytest.mark.parametrize(
    ("ops", "error"),
    [
        ([{"op": "replace", "path": "/spec/missing", "value": 1}], PatchPathMissing),
        ([{"op": "remove", "path": "/spec/missing"}], PatchPathMissing),
        ([{"op": "add", "path": "/nope/x", "value": 1}], PatchPathMissing),
        ([{"op": "add", "path": "/spec/list/5", "value": 1}], PatchPathMissing),
        ([{"op": "test", "path": "/spec/replicas", "value": True}], PatchTestFailed),
        ([{"op": "test", "path": "/spec/missing", "value": 1}], PatchTestFailed),
        ([{"op": "Add", "path": "/spec/x", "value": 1}], PatchError),
        ([{"op": "add", "path": "spec", "value": 1}], PatchError),
    ],
)
def test_json_patch_errors(ops: list[dict[str, Any]], error: type[Exception]) -> None:
    with pytest.raises(error):
        apply_json_patch(DOC, ops)


def test_json_patch_is_atomic() -> None:
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 9}, {"op": "remove", "path": "/spec/missing"}]
    with pytest.raises(PatchPathMissing):
        apply_json_patch(DOC, ops)
    assert DOC["spec"]["replicas"] == 1


def test_merge_patch_rfc7386_examples() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "l": [3], "n": {"x": None}}
    assert apply_merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "l": [3], "n": {}}
    assert apply_merge_patch({"a": 1}, ["x"]) == ["x"]


def deployment(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": list(containers), **spec}}}}


def test_strategic_merge_by_container_name_and_port() -> None:
    target = deployment(
        {"name": "web", "image": "web:1", "ports": [{"containerPort": 80, "name": "http"}]},
        {"name": "sidecar", "image": "proxy:1"},
    )
    patch = deployment({"name": "web", "image": "web:2", "ports": [{"containerPort": 80, "protocol": "TCP"}]})
    result = apply_strategic_merge_patch(target, patch)
    containers = result["spec"]["template"]["spec"]["containers"]
    assert containers == [
        {
            "name": "web",
            "image": "web:2",
            "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
        },
        {"name": "sidecar", "image": "proxy:1"},
    ]


def test_strategic_merge_directives() -> None:
    target = deployment({"name": "a"}, {"name": "b"}, volumes=[{"name": "v1"}], tolerations=[{"key": "x"}])
    patch = deployment(
        {"name": "b", "$patch": "delete"}, {"name": "c"}, volumes=[{"name": "v2"}], tolerations=[{"key": "y"}]
    )
    spec = apply_strategic_merge_patch(target, patch)["spec"]["template"]["spec"]
    # kube-apiserver's order: an element new to the list goes before the live ones (normalizeElementOrder)
    assert spec["containers"] == [{"name": "c"}, {"name": "a"}]
    assert spec["volumes"] == [{"name": "v2"}, {"name": "v1"}]
    assert spec["tolerations"] == [{"key": "y"}]  # no merge key: replaced


@pytest.mark.parametrize(
    ("live", "patch", "merged"),
    [  # each row as kube-apiserver v1.37 answered it
        (["a", "b"], [{"name": "b", "$patch": "delete"}, {"name": "c"}], ["c", "a"]),
        (["a", "b"], [{"name": "c"}], ["c", "a", "b"]),
        (["a", "b"], [{"name": "b"}, {"name": "c"}], ["a", "b", "c"]),
        (["a", "b", "d"], [{"name": "c"}, {"name": "b"}], ["c", "a", "b", "d"]),
        (["a", "b", "d"], [{"name": "d"}, {"name": "c"}, {"name": "a"}], ["b", "d", "c", "a"]),
    ],
)
def test_strategic_merge_orders_lists_as_the_api_server_does(live, patch, merged) -> None:
    target = deployment(*({"name": n} for n in live))
    result = apply_strategic_merge_patch(target, deployment(*patch))
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == merged


def test_strategic_merge_puts_new_finalizers_first() -> None:
    result = apply_strategic_merge_patch(
        {"metadata": {"finalizers": ["x/b"]}}, {"metadata": {"finalizers": ["x/a"]}}
    )
    assert result["metadata"]["finalizers"] == ["x/a", "x/b"]


def test_strategic_merge_service_ports_by_port_and_finalizers_as_a_set() -> None:
    target = {"metadata": {"finalizers": ["a"]}, "spec": {"ports": [{"port": 80, "nodePort": 30080}]}}
    patch = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"ports": [{"port": 80, "name": "http"}]}}
    result = apply_strategic_merge_patch(target, patch)
    assert result == {
        "metadata": {"finalizers": ["a", "b"]},
        "spec": {"ports": [{"port": 80, "nodePort": 30080, "name": "http"}]},
    }


def test_strategic_merge_replace_and_null() -> None:
    target = {"spec": {"selector": {"a": "1", "b": "2"}, "keep": 1, "drop": 2}}
    patch = {"spec": {"selector": {"$patch": "replace", "c": "3"}, "drop": None}}
    assert apply_strategic_merge_patch(target, patch) == {"spec": {"selector": {"c": "3"}, "keep": 1}}


def test_json_patch_values_are_copied_into_each_document() -> None:
    ops = [{"op": "add", "path": "/spec/labels", "value": {"a": "1"}}]
    first = apply_json_patch(DOC, ops)
    first["spec"]["labels"]["a"] = "changed"
    assert apply_json_patch(DOC, ops)["spec"]["labels"] == {"a": "1"}
    assert ops[0]["value"] == {"a": "1"}
