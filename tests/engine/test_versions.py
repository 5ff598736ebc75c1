"""API group versions: the backup holds several; Velero's priority rules choose the one restored.

P0 the user's versions (the plan's `apiGroupVersionPriorities`, then Velero's ConfigMap
`enableapigroupversions`), P1 the target's preferred version, P2 the backup's preferred version,
P3 the first common version below the top of both priority-sorted lists, else the backup's preferred.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

from restoreflow.cluster.discovery import GroupVersions
from restoreflow.plan.model import ApiRetries, Retries, Transforms
from restoreflow.restore import fetch, prepare, run_restore, validate
from restoreflow.restore.selection import choose_version
from restoreflow.restore.version_priorities import parse_user_priorities
from tests.engine.helpers import kube_object, make_plan, posts, widget_crd, write_backup


def two_version_crd() -> dict:
    crd = widget_crd()
    schema = crd["spec"]["versions"][0]["schema"]
    crd["spec"]["versions"] = [
        {"name": "v1beta1", "served": True, "storage": False, "schema": schema},
        {"name": "v1", "served": True, "storage": True, "schema": schema},
    ]
    for key in ("uid", "resourceVersion", "creationTimestamp", "managedFields"):
        crd["metadata"].pop(key)
    crd.pop("status")
    return crd


def serve_widgets(sandbox) -> None:
    api = client.ApiextensionsV1Api(sandbox.api_client())
    api.create_custom_resource_definition(two_version_crd())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        groups = client.ApisApi(sandbox.api_client()).get_api_versions().groups
        if any(g.name == "example.com" for g in groups):
            return
        time.sleep(0.05)
    raise AssertionError("the sandbox never served widgets.example.com")


def test_the_target_preferred_version_is_restored_when_the_backup_holds_it(sandbox, tmp_path):
    serve_widgets(sandbox)
    old = kube_object("example.com/v1beta1", "Widget", "w1", "shop", spec={"size": 1})
    new = kube_object("example.com/v1", "Widget", "w1", "shop", spec={"replicas": 1})
    location, builder = write_backup(tmp_path, [], name="versions")
    builder.add(old, resource="widgets")
    builder.add(new, resource="widgets", preferred=False)
    builder.write(location)

    ctx = validate(make_plan(sandbox, location, backup="versions"), restore_name="preview-versions")
    fetch(ctx)
    [group] = [g for g in prepare(ctx) if g.resource == "widgets.example.com"]
    ctx.close()
    assert group.version == "v1"

    result = run_restore(make_plan(sandbox, location, backup="versions"), restore_name="versions")
    assert result.phase == "Completed", result.results
    restored = sandbox.get("widgets.example.com", "w1", "shop")
    assert restored["apiVersion"] == "example.com/v1"
    assert restored["spec"] == {"replicas": 1}
    assert result.resource_list == {
        "example.com/v1/Widget": ["shop/w1(created)"],
        "v1/Namespace": ["shop(created)"],
    }


# -- the rules, as a pure function (Velero's prioritize_group_version_test.go cases) ---------------
CHOICES = [
    # (case, the backup's versions, the target's versions (preferred first; "" unknown group), user, chosen)
    ("P1 target preferred is backup preferred", "v1 v1alpha1", "v1 v2beta1", "", "v1"),
    ("P1 target preferred is another backup version", "v1 v2beta2 v2beta1", "v2beta2 v2beta1", "", "v2beta2"),
    ("P2 backup preferred served by the target", "v1 v1alpha1", "v2 v1", "", "v1"),
    ("P3 first common by kubernetes priority", "v1 v2beta2 v2beta1", "v2 v2beta1 v2beta2", "", "v2beta2"),
    ("P3 skips the top of each sorted list", "v3 v2 v1beta1", "v1 v2 v1beta1", "", "v1beta1"),
    ("nothing common: backup preferred", "v1 v1beta1 v1alpha1", "v2 v2alpha1", "", "v1"),
    ("target group unknown: backup preferred", "v1 v1beta1", "", "", "v1"),
    ("P0 the user's first common", "v1 v2beta2 v2beta1", "v2beta2 v2beta1", "v2beta1 v2beta2", "v2beta1"),
    ("P0 over both preferred versions", "v1 v1beta1", "v1 v1beta1", "v1beta1", "v1beta1"),
    ("P0 skips what one lacks", "v1 v10alpha2", "v1 v10alpha2", "foo v3 v10alpha2", "v10alpha2"),
    ("P0 only the backup has it: P2", "v1 v1beta1", "v2 v1", "v1beta1", "v1"),
    ("P0 only the target has it: default", "v2 v2beta1", "v3 v3beta2", "v3 v1", "v2"),
    ("P0 none matches: P2", "v1 v2alpha1", "v2 v1 v2alpha1", "v2beta2 v2beta1 v2beta3", "v1"),
    ("P0 ignored when the target lacks the group", "v1 v1beta1", "", "v1beta1", "v1"),
]


def group_versions(listed: str) -> GroupVersions | None:
    """Preferred first: "v2 v1" is v2 preferred and both served; "" is a group the target lacks."""
    names = tuple(listed.split())
    return GroupVersions(names[0], names) if names else None


@pytest.mark.parametrize(
    ("backup", "target", "user", "expected"), [c[1:] for c in CHOICES], ids=[c[0] for c in CHOICES]
)
def test_velero_priority_rules_choose_the_version(backup: str, target: str, user: str, expected: str):
    source = group_versions(backup)
    assert source is not None
    assert choose_version(source, group_versions(target), tuple(user.split())) == expected


def test_velero_config_map_lines_are_parsed_the_way_velero_parses_them():
    data = "rockbands.music.example.io=v2beta1,v2beta2\norchestras.music.example.io=v2,v3alpha1\n"
    data += "subscriptions.operators.coreos.com = v2, v1\n\n   \n"
    assert parse_user_priorities(data) == (
        {
            "rockbands.music.example.io": ("v2beta1", "v2beta2"),
            "orchestras.music.example.io": ("v2", "v3alpha1"),
            "subscriptions.operators.coreos.com": ("v2", "v1"),
        },
        [],
    )


def test_bad_config_map_lines_are_dropped_with_veleros_message_as_warning():
    data = "rb=foo,foo2\no=v2beta2\n\\n\na=v1=v2\n=v1\nb=\nb=v1\nrb=v3"
    priorities, warnings = parse_user_priorities(data)
    assert priorities == {"rb": ("v3",), "o": ("v2beta2",), "b": ("v1",)}  # a later line replaces
    one_sign = "line must have one and only one equal sign"
    both_sides = "line must contain at least one character before and after equal sign"
    assert warnings == [
        f'Unable to validate user priority versions "\\\\n" due to {one_sign}',
        f'Unable to validate user priority versions "a=v1=v2" due to {one_sign}',
        f'Unable to validate user priority versions "=v1" due to {both_sides}',
        f'Unable to validate user priority versions "b=" due to {both_sides}',
    ]
    literal = "rockbands.music.example.io=v2beta1,v2beta2\\n orchestras.music.example.io=v2,v3alpha1"
    assert parse_user_priorities(literal)[0] == {}


# -- end to end: the user's choice reaches the API server -------------------------------------------
def two_version_backup(tmp_path) -> str:
    """widgets at v1 (the backup's preferred version) and at v1beta1, with telling specs."""
    location, builder = write_backup(tmp_path, [], name="versions")
    builder.add(
        kube_object("example.com/v1", "Widget", "w1", "shop", spec={"replicas": 1}), resource="widgets"
    )
    builder.add(
        kube_object("example.com/v1beta1", "Widget", "w1", "shop", spec={"size": 1}),
        resource="widgets",
        preferred=False,
    )
    builder.write(location)
    return location


def velero_config_map(data: str) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "velero"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "enableapigroupversions", "namespace": "velero"},
            "data": {"restoreResourcesVersionPriority": data},
        },
    ]


def widget_creates(sandbox) -> list[str]:
    return [r["path"] for r in posts(sandbox, "widgets.example.com")]


def test_the_plans_priority_restores_the_version_the_target_does_not_prefer(sandbox, tmp_path):
    serve_widgets(sandbox)
    location = two_version_backup(tmp_path)
    plan = make_plan(
        sandbox,
        location,
        backup="versions",
        api_group_version_priorities={"widgets.example.com": ("v1beta1",)},
    )
    sandbox.clear_requests()
    result = run_restore(plan, restore_name="user-versions")
    assert result.phase == "Completed", result.results
    assert widget_creates(sandbox) == ["/apis/example.com/v1beta1/namespaces/shop/widgets"]
    assert sandbox.get("widgets.example.com", "w1", "shop")["spec"] == {"size": 1}
    assert result.resource_list["example.com/v1beta1/Widget"] == ["shop/w1(created)"]


def test_veleros_config_map_chooses_the_version_and_its_bad_lines_are_warnings(sandbox, tmp_path):
    serve_widgets(sandbox)
    sandbox.load(velero_config_map("widgets.example.com = v1beta1, v1\nrockbands.music.example.io\n=v2\n"))
    location = two_version_backup(tmp_path)
    plan = make_plan(
        sandbox, location, backup="versions", transforms=Transforms(honor_velero_config_maps=True)
    )
    sandbox.clear_requests()
    result = run_restore(plan, restore_name="config-map-versions")
    assert result.phase == "Completed", result.results
    assert widget_creates(sandbox) == ["/apis/example.com/v1beta1/namespaces/shop/widgets"]
    assert sandbox.get("widgets.example.com", "w1", "shop")["spec"] == {"size": 1}
    assert result.results["warnings"]["velero"] == [
        'Unable to validate user priority versions "rockbands.music.example.io" due to line must have one '
        "and only one equal sign",
        'Unable to validate user priority versions "=v2" due to line must contain at least one character '
        "before and after equal sign",
    ]


def chosen(sandbox, location: str, **spec: Any) -> str | None:
    """The version prepare chooses for widgets (nothing is written)."""
    ctx = validate(make_plan(sandbox, location, backup="versions", **spec), restore_name="preview-versions")
    try:
        fetch(ctx)
        [group] = [g for g in prepare(ctx) if g.resource == "widgets.example.com"]
    finally:
        ctx.close()
    return group.version


def config_map_reads(sandbox) -> list[str]:
    return [f"{r['namespace']}/{r['name']}" for r in sandbox.requests() if r["resource"] == "configmaps"]


def test_the_plan_wins_over_the_config_map_which_is_read_only_when_honoured(sandbox, tmp_path):
    serve_widgets(sandbox)
    sandbox.load(velero_config_map("widgets.example.com=v1beta1"))
    location = two_version_backup(tmp_path)
    honoured = Transforms(honor_velero_config_maps=True)
    sandbox.clear_requests()
    assert chosen(sandbox, location, transforms=honoured) == "v1beta1"
    assert config_map_reads(sandbox) == ["velero/enableapigroupversions"]
    plan_says = {"widgets.example.com": ("v1",)}
    assert chosen(sandbox, location, transforms=honoured, api_group_version_priorities=plan_says) == "v1"
    sandbox.clear_requests()
    assert chosen(sandbox, location) == "v1"
    assert config_map_reads(sandbox) == []


def test_an_unreadable_config_map_restores_nothing_with_veleros_error(sandbox, tmp_path):
    serve_widgets(sandbox)
    sandbox.add_fault("verb=get,resource=configmaps,name=enableapigroupversions,code=500")
    location = two_version_backup(tmp_path)
    plan = make_plan(
        sandbox,
        location,
        backup="versions",
        transforms=Transforms(honor_velero_config_maps=True),
        retries=Retries(api=ApiRetries(attempts=1)),
    )
    sandbox.clear_requests()
    result = run_restore(plan, restore_name="unreadable-versions")
    assert result.phase == "PartiallyFailed"
    assert posts(sandbox) == []
    assert result.results["errors"] == {
        "velero": [
            "choosing API version to restore: retrieving enableapigroupversion config map: getting "
            "enableapigroupversions config map from velero namespace: Internal error occurred: injected fault"
        ]
    }
