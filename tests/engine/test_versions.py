"""API group versions: the backup holds several; the target's preferred one wins when the backup has it."""

from __future__ import annotations

import time

from kubernetes import client

from restoreflow.restore import fetch, prepare, run_restore, validate
from tests.engine.helpers import kube_object, make_plan, widget_crd, write_backup


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
