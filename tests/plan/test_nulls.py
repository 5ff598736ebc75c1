"""A null field means "unset", as Kubernetes prunes the non-nullable nulls of a custom resource."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from restoreflow.cli import main
from restoreflow.plan import PlanError, load_plan_text, plan_from_document, plan_to_document
from restoreflow.plan.velero import load_velero_restore

HEADER = """\
apiVersion: restoreflow.dev/v1alpha1
kind: RestorePlan
metadata:
  name: nulls
"""

# The same plan twice: with nulls at every depth, and with those fields left out.
WITH_NULLS = (
    HEADER
    + """\
  labels:
  annotations: ~
spec:
  source:
    storageLocation: /backups
    backupName: b
    options: null
  target:
  includedNamespaces: [shop]
  excludedNamespaces:
  includeClusterResources: null
  labelSelector: null
  resourceModifier: ~
  restorePVs:
  existingResourcePolicy:
  restoreStatus: {includedResources: null, excludedResources: [pods]}
  hooks:
    resources:
      - name: db
        includedNamespaces: ~
        labelSelector:
          matchLabels: {app: db}
          matchExpressions:
        postHooks:
          - exec:
              command: [/bin/true]
              execTimeout:
              onError: null
              waitForReady:
          - init:
              initContainers: [{name: seed, image: busybox, command: [/seed]}]
              timeout: null
  itemOperationTimeout:
  uploaderConfig:
  priorities: {high: [namespaces], low: null}
  transforms:
    storageClassMapping:
    imageNameMapping: null
    resourceModifiers:
      version: v1
      resourceModifierRules:
        - conditions: {groupResource: pods, namespaces: null}
          patches:
            - {operation: remove, path: /spec/nodeName, from: null}
    veleroNamespace:
  timeouts:
    hookWait: 3m
    execHook:
  retries:
    api:
    phases: {attempts: null, delay: 1s}
  concurrency: {workers: null, qps: 5, burst: ~}
"""
)
WITHOUT_NULLS = (
    HEADER
    + """\
spec:
  source:
    storageLocation: /backups
    backupName: b
  includedNamespaces: [shop]
  restoreStatus: {excludedResources: [pods]}
  hooks:
    resources:
      - name: db
        labelSelector:
          matchLabels: {app: db}
        postHooks:
          - exec:
              command: [/bin/true]
          - init:
              initContainers: [{name: seed, image: busybox, command: [/seed]}]
  priorities: {high: [namespaces]}
  transforms:
    resourceModifiers:
      version: v1
      resourceModifierRules:
        - conditions: {groupResource: pods}
          patches:
            - {operation: remove, path: /spec/nodeName}
  timeouts:
    hookWait: 3m
  retries:
    phases: {delay: 1s}
  concurrency: {qps: 5}
"""
)
SOURCE = "spec:\n  source: {storageLocation: /backups, backupName: b}\n"


def test_nulls_at_every_depth_load_as_if_the_fields_were_absent() -> None:
    with_nulls = load_plan_text(WITH_NULLS, "plan.yaml")
    assert with_nulls == load_plan_text(WITHOUT_NULLS, "plan.yaml")
    spec = with_nulls.spec
    assert spec.restore_pvs is True and spec.existing_resource_policy == "none"
    assert (
        spec.priorities.high == ("namespaces",)
        and spec.priorities.low[0] == "clusterbootstraps.run.tanzu.vmware.com"
    )
    exec_hook = spec.hooks[0].post_hooks[0].exec
    assert exec_hook is not None and (exec_hook.exec_timeout, exec_hook.wait_timeout) == (30.0, 180.0)
    assert (spec.concurrency.workers, spec.concurrency.burst, spec.retries.phases.attempts) == (32, 100, 2)


@pytest.mark.parametrize(
    "field",
    ["hooks:", "labelSelector: null", "resourceModifier: ~", "includeClusterResources: null", "target:"],
)
def test_a_field_left_empty_is_unset(field: str) -> None:
    assert load_plan_text(f"{HEADER}{SOURCE}  {field}\n") == load_plan_text(HEADER + SOURCE)


def test_a_field_that_means_something_when_null_keeps_it() -> None:
    text = f"{HEADER}{SOURCE}  includeClusterResources: true\n"
    assert load_plan_text(text).spec.include_cluster_resources is True
    nulled = load_plan_text(text.replace("true", "null"))
    assert nulled.spec.include_cluster_resources is None  # auto, as when left out
    assert nulled.document["spec"]["includeClusterResources"] is None


def test_plan_show_prints_the_plan_without_the_nulls(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "nulls.yaml"
    path.write_text(WITH_NULLS)
    assert main(["plan", "validate", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: valid (plan nulls)\n"
    assert main(["plan", "show", str(path)]) == 0
    shown = YAML(typ="safe").load(capsys.readouterr().out)
    assert shown == plan_to_document(load_plan_text(WITHOUT_NULLS))
    assert shown["spec"]["hooks"]["resources"][0]["includedNamespaces"] == []
    assert shown["spec"]["timeouts"]["execHook"] == "30s"


def test_a_plain_document_with_nulls_is_the_same_plan() -> None:
    """CLI flags and flow parameters arrive as documents; their nulls are unset fields too."""
    document = YAML(typ="safe").load(HEADER + SOURCE)
    nulled = YAML(typ="safe").load(HEADER + SOURCE)
    nulled["metadata"]["labels"] = None
    nulled["spec"].update(hooks=None, timeouts=None, concurrency={"workers": None}, priorities=None)
    assert plan_from_document(nulled) == plan_from_document(document)


def test_a_null_in_a_map_of_the_users_keys_is_still_an_error() -> None:
    text = (
        HEADER
        + SOURCE
        + """\
  namespaceMapping:
    shop:
    web: ~
  labelSelector:
    matchLabels: {app: null}
  transforms:
    storageClassMapping:
      gp2:
  apiGroupVersionPriorities:
    rockbands.music.example.io:
"""
    )
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, "plan.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "plan.yaml:8:5: spec.namespaceMapping.shop: must be of type string, got null",
        "plan.yaml:9:10: spec.namespaceMapping.web: must be of type string, got null",
        "plan.yaml:11:24: spec.labelSelector.matchLabels.app: must be of type string, got null",
        "plan.yaml:14:7: spec.transforms.storageClassMapping.gp2: must be of type string, got null",
        'plan.yaml:16:5: spec.apiGroupVersionPriorities["rockbands.music.example.io"]: '
        "must be of type array, got null",
    ]


def test_a_required_field_left_null_is_reported_where_it_is_written() -> None:
    text = (
        HEADER.replace("name: nulls", "name:")
        + "spec:\n  source:\n    storageLocation: ~\n    backupName: b\n"
    )
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, "plan.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "plan.yaml:4:3: metadata.name: required field is null, which leaves it unset: give it a value",
        "plan.yaml:7:5: spec.source.storageLocation: required field is null, which leaves it unset: "
        "give it a value",
    ]
    located = load_plan_text(text.replace("name:", "name: nulls"), storage_location="/elsewhere")
    assert located.spec.source.storage_location == "/elsewhere"  # unset, so the given location applies


def test_a_velero_restore_with_empty_fields_converts(tmp_path: Path) -> None:
    path = tmp_path / "restore.yaml"
    path.write_text(
        """\
apiVersion: velero.io/v1
kind: Restore
metadata: {name: shop, namespace: velero}
spec:
  backupName: shop-1
  hooks:
    resources:
      - name: db
        includedNamespaces:
        postHooks:
          - exec: {command: [/bin/true], execTimeout: null}
  uploaderConfig:
"""
    )
    document = load_velero_restore(path, "/backups")
    assert document["spec"]["hooks"] == {
        "resources": [{"name": "db", "postHooks": [{"exec": {"command": ["/bin/true"]}}]}]
    }
    exec_hook = plan_from_document(document).spec.hooks[0].post_hooks[0].exec
    assert exec_hook is not None and exec_hook.exec_timeout == 30.0  # the plan's default
