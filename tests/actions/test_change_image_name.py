"""velero.io/change-image-name: Velero's row rule, made deterministic by the plan's order."""

from __future__ import annotations

from typing import Any

import pytest

from restoreflow.actions.change_image_name import ChangeImageNameAction, replace_image
from restoreflow.restore.matching import action_applies
from tests.actions.views import View, make_plan, run


@pytest.mark.parametrize(
    ("image", "row", "expected"),
    [
        ("1.1.1.1:5000/abc:test", "1.1.1.1:5000  ,  2.2.2.2:3000", "2.2.2.2:3000/abc:test"),
        ("1.1.1.1:5000/abc:test", "1.1.1.1:5000,2.2.2.2:3000", "2.2.2.2:3000/abc:test"),
        ("1.1.1.1:5000/abc:test", "abc:test,myproject:latest", "1.1.1.1:5000/myproject:latest"),
        ("1.1.1.1:5000/abc:test", "5000,3333", "1.1.1.1:3333/abc:test"),
        ("1.1.1.1:5000/abc:test", "test,latest", "1.1.1.1:5000/abc:latest"),
        ("dev/image1:dev", "dev/,test/", "test/image1:dev"),
        ("dev/image1:dev", "dev,test", "test/image1:test"),  # every occurrence
        ("abc", ",x", "xaxbxcx"),  # an empty old part matches everywhere
        ("a/b", "a, ", "/b"),  # replaced by nothing
        ("a/b", "a,", "a/b"),  # nothing after the comma: no match
        ("a/b", "no-comma", "a/b"),
        ("", "a,b", ""),
    ],
)
def test_velero_row_rule(image: str, row: str, expected: str) -> None:
    assert replace_image(image, [row]) == expected


def test_first_matching_row_in_plan_order_wins() -> None:
    rows = ["nomatch,x", "registry.prod/,registry.dr/", "registry,other"]
    assert replace_image("registry.prod/shop/web:1.2", rows) == "registry.dr/shop/web:1.2"


def workload(kind: str, images: tuple[str, str]) -> dict[str, Any]:
    pod_spec = {
        "containers": [{"name": "c", "image": images[0]}],
        "initContainers": [{"name": "i", "image": images[1]}],
    }
    if kind == "Pod":
        spec = pod_spec
    elif kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}
    else:
        spec = {"template": {"spec": pod_spec}}
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x", "namespace": "shop"}, "spec": spec}


def images(item: dict[str, Any]) -> list[str]:
    spec = item["spec"]
    if item["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]["template"]["spec"]
    elif item["kind"] != "Pod":
        spec = spec["template"]["spec"]
    return [spec["containers"][0]["image"], spec["initContainers"][0]["image"]]


@pytest.mark.parametrize(
    ("kind", "resource"),
    [
        ("Pod", "pods"),
        ("Deployment", "deployments.apps"),
        ("StatefulSet", "statefulsets.apps"),
        ("DaemonSet", "daemonsets.apps"),
        ("ReplicaSet", "replicasets.apps"),
        ("ReplicationController", "replicationcontrollers"),
        ("Job", "jobs.batch"),
        ("CronJob", "cronjobs.batch"),
    ],
)
def test_containers_and_init_containers_of_every_workload(kind: str, resource: str) -> None:
    action = ChangeImageNameAction()
    assert action_applies(action.applies_to(), resource, "shop", {})
    view = View(make_plan({"image_name_mapping": ["registry.prod/,registry.dr/"]}))
    item = workload(kind, ("registry.prod/web:1", "registry.prod/init:1"))
    assert images(run(action, item, view=view).item) == ["registry.dr/web:1", "registry.dr/init:1"]


def test_no_rows_leaves_the_item_unchanged() -> None:
    item = workload("Pod", ("registry.prod/web:1", "busybox"))
    assert run(ChangeImageNameAction(), item).item == item
