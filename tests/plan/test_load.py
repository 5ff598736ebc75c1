"""Loading plans: every field reaches the typed plan, defaults are filled, the plan is immutable."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import MappingProxyType

import pytest

from restoreflow.plan import (
    PlanError,
    load_plan,
    load_plan_text,
    plan_from_document,
    plan_to_document,
)
from restoreflow.plan.model import (
    DEFAULT_HIGH_PRIORITIES,
    NON_RESTORABLE_RESOURCES,
    ExecHook,
    IncludesExcludes,
    InitHook,
    PostHook,
    ResourceHookSpec,
)

ROOT = Path(__file__).resolve().parents[2]
PLANS = sorted((ROOT / "plans").glob("*.yaml"))

COMPLETE = """\
apiVersion: restoreflow.dev/v1alpha1
kind: RestorePlan
metadata:
  name: complete
  labels: {team: sre}
  annotations: {owner: "sre@example.com"}
spec:
  source:
    storageLocation: s3://velero/prod
    options: {endpoint_url: "http://127.0.0.1:9000", client_kwargs: {region_name: eu-west-1}}
    scheduleName: nightly
  target: {kubeconfig: .demo/kubeconfig, context: dr}
  includedNamespaces: [shop, "web-*"]
  excludedNamespaces: [web-test]
  includedResources: ["*"]
  excludedResources: [secrets]
  includeClusterResources: false
  orLabelSelectors:
    - matchLabels: {app: shop}
    - matchExpressions: [{key: tier, operator: In, values: [web, cache]}]
  namespaceMapping: {shop: shop-drill}
  restorePVs: false
  preserveNodePorts: true
  existingResourcePolicy: update
  restoreStatus: {includedResources: [widgets.example.com], excludedResources: [pods]}
  resourceModifier: {kind: configmap, name: modifiers}
  hooks:
    resources:
      - name: db
        includedNamespaces: [shop-drill]
        excludedNamespaces: [web]
        includedResources: [pods]
        excludedResources: [deployments.apps]
        labelSelector: {matchLabels: {app: db}}
        postHooks:
          - init:
              initContainers:
                - {name: restore-db, image: "postgres:16", command: [/restore.sh], args: [--all]}
              timeout: 2m
          - exec:
              container: db
              command: [psql, -c, "select 1"]
              onError: Fail
              execTimeout: 1m
              waitTimeout: 3m
              waitForReady: true
  itemOperationTimeout: 2h
  uploaderConfig: {writeSparseFiles: true, parallelFilesDownload: 4}
  priorities: "namespaces,persistentvolumeclaims,pods,-,services"
  apiGroupVersionPriorities:
    rockbands.music.example.io: [v2beta1, v2beta2]
    horizontalpodautoscalers.autoscaling: [v2, v1]
  transforms:
    storageClassMapping: {gp2: standard}
    imageNameMapping: ["registry.prod/,registry.dr/", "busybox,busybox:stable"]
    nodeMapping: {node-1: node-a}
    resourceModifiers:
      version: v1
      resourceModifierRules:
        - conditions: {groupResource: deployments.apps}
          mergePatches:
            - patchData: {spec: {replicas: 1}}
    honorVeleroConfigMaps: true
    veleroNamespace: backup-system
  timeouts:
    fsBackupRestore: 3h
    crdAvailable: 90s
    terminatingResource: 5m
    execHook: 45s
    hookWait: 2m
    resource: 4m
  retries:
    api: {attempts: 3, initialBackoff: 100ms, maxBackoff: 10s}
    phases: {attempts: 4, delay: 1m}
  concurrency: {workers: 8, qps: 50.5, burst: 20}
"""


def test_every_field_reaches_the_typed_plan() -> None:
    plan = load_plan_text(COMPLETE, "complete.yaml")
    spec = plan.spec
    assert plan.name == "complete"
    assert plan.source_file == "complete.yaml"
    assert spec.source.storage_location == "s3://velero/prod"
    assert dict(spec.source.options) == {
        "endpoint_url": "http://127.0.0.1:9000",
        "client_kwargs": {"region_name": "eu-west-1"},
    }
    assert (spec.source.backup_name, spec.source.schedule_name) == (None, "nightly")
    assert (spec.target.kubeconfig, spec.target.context) == (".demo/kubeconfig", "dr")
    assert spec.included_namespaces == ("shop", "web-*")
    assert spec.excluded_namespaces == ("web-test",)
    assert spec.included_resources == ("*",)
    assert spec.excluded_resources == ("secrets", *NON_RESTORABLE_RESOURCES)
    assert spec.include_cluster_resources is False
    assert spec.label_selector is None
    assert spec.or_label_selectors == (
        {"matchLabels": {"app": "shop"}},
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "cache"]}]},
    )
    assert dict(spec.namespace_mapping) == {"shop": "shop-drill"}
    assert spec.restore_pvs is False
    assert spec.preserve_node_ports is True
    assert spec.existing_resource_policy == "update"
    assert spec.restore_status == IncludesExcludes(("widgets.example.com",), ("pods",))
    assert spec.resource_modifier == {"kind": "configmap", "name": "modifiers"}
    assert spec.hooks == (
        ResourceHookSpec(
            name="db",
            included_namespaces=("shop-drill",),
            excluded_namespaces=("web",),
            included_resources=("pods",),
            excluded_resources=("deployments.apps",),
            label_selector={"matchLabels": {"app": "db"}},
            post_hooks=(
                PostHook(
                    init=InitHook(
                        init_containers=(
                            {
                                "name": "restore-db",
                                "image": "postgres:16",
                                "command": ["/restore.sh"],
                                "args": ["--all"],
                            },
                        ),
                        timeout=120.0,
                    )
                ),
                PostHook(
                    exec=ExecHook(
                        command=("psql", "-c", "select 1"),
                        container="db",
                        on_error="Fail",
                        exec_timeout=60.0,
                        wait_timeout=180.0,
                        wait_for_ready=True,
                    )
                ),
            ),
        ),
    )
    assert spec.item_operation_timeout == 7200.0
    assert (spec.uploader_config.write_sparse_files, spec.uploader_config.parallel_files_download) == (
        True,
        4,
    )
    assert spec.priorities.high == ("namespaces", "persistentvolumeclaims", "pods")
    assert spec.priorities.low == ("services",)
    assert dict(spec.api_group_version_priorities) == {
        "rockbands.music.example.io": ("v2beta1", "v2beta2"),
        "horizontalpodautoscalers.autoscaling": ("v2", "v1"),
    }
    transforms = spec.transforms
    assert dict(transforms.storage_class_mapping) == {"gp2": "standard"}
    assert transforms.image_name_mapping == ("registry.prod/,registry.dr/", "busybox,busybox:stable")
    assert dict(transforms.node_mapping) == {"node-1": "node-a"}
    rule = transforms.resource_modifiers["resourceModifierRules"][0]  # type: ignore[index]
    assert json.loads(rule["mergePatches"][0]["patchData"]) == {"spec": {"replicas": 1}}
    assert transforms.honor_velero_config_maps is True
    assert transforms.velero_namespace == "backup-system"
    timeouts = spec.timeouts
    assert (timeouts.fs_backup_restore, timeouts.crd_available, timeouts.terminating_resource) == (
        10800.0,
        90.0,
        300.0,
    )
    assert (timeouts.exec_hook, timeouts.hook_wait, timeouts.resource) == (45.0, 120.0, 240.0)
    assert (spec.retries.api.attempts, spec.retries.api.initial_backoff, spec.retries.api.max_backoff) == (
        3,
        0.1,
        10.0,
    )
    assert (spec.retries.phases.attempts, spec.retries.phases.delay) == (4, 60.0)
    assert (spec.concurrency.workers, spec.concurrency.qps, spec.concurrency.burst) == (8, 50.5, 20)


def test_the_document_is_normalized_with_every_default_and_canonical_durations() -> None:
    document = plan_to_document(load_plan_text(COMPLETE))
    spec = document["spec"]
    assert list(document) == ["apiVersion", "kind", "metadata", "spec"]
    assert spec["priorities"] == {
        "high": ["namespaces", "persistentvolumeclaims", "pods"],
        "low": ["services"],
    }
    assert list(spec["apiGroupVersionPriorities"]) == [
        "rockbands.music.example.io",
        "horizontalpodautoscalers.autoscaling",
    ]
    assert spec["timeouts"]["crdAvailable"] == "1m30s"
    assert spec["itemOperationTimeout"] == "2h0m0s"
    assert spec["labelSelector"] is None
    assert spec["hooks"]["resources"][0]["postHooks"][1]["exec"]["execTimeout"] == "1m0s"
    assert json.loads(json.dumps(document)) == document  # plain data, ready for records


def test_exec_hooks_take_the_plans_timeouts_when_unset_or_zero() -> None:
    text = COMPLETE.replace("execTimeout: 1m", "execTimeout: 0s").replace(
        "              waitTimeout: 3m\n", ""
    )
    exec_hook = load_plan_text(text).spec.hooks[0].post_hooks[1].exec
    assert exec_hook is not None
    assert (exec_hook.exec_timeout, exec_hook.wait_timeout) == (45.0, 120.0)


def test_zero_item_operation_timeout_means_the_default_like_velero() -> None:
    plan = load_plan_text(COMPLETE.replace("itemOperationTimeout: 2h", "itemOperationTimeout: 0s"))
    assert plan.spec.item_operation_timeout == 4 * 3600.0


def test_minimal_plan_gets_velero_defaults() -> None:
    plan = load_plan(ROOT / "plans" / "selective-by-labels.yaml")
    assert plan.spec.priorities.high == DEFAULT_HIGH_PRIORITIES
    assert plan.spec.existing_resource_policy == "none"
    assert plan.spec.restore_pvs is True
    assert plan.spec.include_cluster_resources is None
    assert plan.spec.target.kubeconfig is None
    assert plan.spec.timeouts.fs_backup_restore == 4 * 3600.0


def test_relative_paths_are_kept_as_written() -> None:
    plan = load_plan(ROOT / "plans" / "demo.yaml")
    assert plan.spec.source.storage_location == ".demo/backups"
    assert plan.spec.target.kubeconfig == ".demo/kubeconfig"
    assert plan.source_file == str(ROOT / "plans" / "demo.yaml")


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_normalized_documents_round_trip(path: Path) -> None:
    plan = load_plan(path)
    again = plan_from_document(plan_to_document(plan))
    assert again.spec == plan.spec and again.name == plan.name
    assert plan_to_document(again) == plan_to_document(plan)


def test_the_example_plans_cover_what_they_promise() -> None:
    demo = load_plan(ROOT / "plans" / "demo.yaml").spec
    assert (demo.source.backup_name, demo.included_namespaces) == ("demo-backup", ("shop",))
    drill = load_plan(ROOT / "plans" / "nightly-dr-drill.yaml").spec
    assert drill.source.schedule_name == "nightly"
    assert dict(drill.namespace_mapping) == {"shop": "shop-drill"}
    migration = load_plan(ROOT / "plans" / "migration.yaml").spec
    assert migration.namespace_mapping and migration.transforms.storage_class_mapping
    assert migration.transforms.image_name_mapping and migration.transforms.resource_modifiers
    assert migration.api_group_version_priorities
    selective = load_plan(ROOT / "plans" / "selective-by-labels.yaml").spec
    assert selective.or_label_selectors or selective.label_selector


def test_the_plan_is_immutable() -> None:
    plan = load_plan_text(COMPLETE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.spec.restore_pvs = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.spec.namespace_mapping["web"] = "web-2"  # type: ignore[index]
    with pytest.raises(TypeError):
        plan.spec.api_group_version_priorities["pods"] = ("v1",)  # type: ignore[index]
    assert isinstance(plan.document, MappingProxyType)
    plan_to_document(plan)["spec"]["restorePVs"] = True
    assert plan.document["spec"]["restorePVs"] is False


def test_plain_documents_report_problems_without_positions() -> None:
    document = {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "from-flags"},
        "spec": {"source": {"storageLocation": "/backups"}, "existingResourcePolicy": "merge"},
    }
    with pytest.raises(PlanError) as caught:
        plan_from_document(document, source="flags")
    assert [str(problem) for problem in caught.value.problems] == [
        "flags: spec.existingResourcePolicy: Invalid ExistingResourcePolicy: merge",
        "flags: spec.source: Either a backup or schedule must be specified as a source for the restore, "
        "but not both",
    ]
    assert caught.value.problems[0].line is None and caught.value.problems[0].column is None


def test_plain_documents_may_hold_tuples_and_read_only_mappings() -> None:
    document = MappingProxyType(
        {
            "apiVersion": "restoreflow.dev/v1alpha1",
            "kind": "RestorePlan",
            "metadata": {"name": "from-flags"},
            "spec": {
                "source": {"storageLocation": "/backups", "backupName": "b"},
                "includedNamespaces": ("shop",),
            },
        }
    )
    plan = plan_from_document(document)
    assert plan.spec.included_namespaces == ("shop",)
    assert plan.source_file is None


def test_inline_text_names_its_source_in_problems() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan_text(COMPLETE.replace("restorePVs: false", "restorePVs: no"), source="<plan parameter>")
    assert str(caught.value) == (
        '<plan parameter>:22:15: spec.restorePVs: must be of type boolean, got string "no" '
        "(YAML 1.2 reads it as a string: write true or false)"
    )


def test_a_missing_file_is_a_plan_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: cannot read the plan: No such file or directory"


def test_json_plans_and_yaml_anchors_load(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_to_document(load_plan_text(COMPLETE))))
    assert load_plan(path).spec == load_plan_text(COMPLETE).spec
    anchored = COMPLETE.replace(
        "storageClassMapping: {gp2: standard}", "storageClassMapping: &classes {gp2: standard}"
    )
    anchored = anchored.replace(
        "nodeMapping: {node-1: node-a}", "nodeMapping: {<<: *classes, node-1: node-a}"
    )
    assert dict(load_plan_text(anchored).spec.transforms.node_mapping) == {
        "node-1": "node-a",
        "gp2": "standard",
    }


def leaf_paths(node: object, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [path] + [p for k, v in node.items() for p in leaf_paths(v, (*path, k))]
    if isinstance(node, list):
        return [path] + [p for i, v in enumerate(node) for p in leaf_paths(v, (*path, i))]
    return [path]


def test_any_value_anywhere_gives_problems_never_a_crash() -> None:
    """Every node of a complete plan replaced by every kind of value: a plan or a PlanError, nothing else."""
    document = plan_to_document(load_plan_text(COMPLETE))
    for path in leaf_paths(document)[1:]:
        for value in (None, -1, "", True, [1], {"x": 1}):
            mutated = json.loads(json.dumps(document))
            parent = mutated
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = value
            try:
                plan_from_document(mutated)
            except PlanError as err:
                assert err.problems and all(p.message for p in err.problems)


def test_a_missing_storage_location_is_taken_from_the_caller() -> None:
    text = (
        "apiVersion: restoreflow.dev/v1alpha1\nkind: RestorePlan\nmetadata: {name: portable}\n"
        "spec:\n  source: {backupName: b1}\n"
    )
    with pytest.raises(PlanError) as missing:
        load_plan_text(text, "portable.yaml")
    assert [p.path for p in missing.value.problems] == ["spec.source.storageLocation"]

    plan = load_plan_text(text, "portable.yaml", storage_location="s3://bucket/prefix")
    assert plan.spec.source.storage_location == "s3://bucket/prefix"
    written = text.replace("{backupName: b1}", "{backupName: b1, storageLocation: /mine}")
    assert (
        load_plan_text(written, "p.yaml", storage_location="s3://x").spec.source.storage_location == "/mine"
    )
