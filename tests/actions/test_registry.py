"""The action registry: Velero's order and plugins found through real entry points.

Plugins are installed the way pip would leave them: a `.dist-info` folder with an
`entry_points.txt` on sys.path, found by importlib.metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo
from restoreflow.actions.registry import BUILTIN_ACTIONS, LoadedActions, PluginAction, load_actions
from restoreflow.backup import BackupBuilder
from restoreflow.plan import plan_from_document
from restoreflow.restore import run_restore
from tests.actions.views import View, make_plan
from tests.plugins.entry_points import installed_plugin

VELERO_ORDER = [
    "velero.io/add-pvc-from-pod",
    "velero.io/admission-webhook-configuration",
    "velero.io/apiservice",
    "velero.io/change-image-name",
    "velero.io/change-storage-class",
    "velero.io/cluster-role-bindings",
    "velero.io/crd-preserve-fields",
    "velero.io/dataupload",
    "velero.io/init-restore-hook",
    "velero.io/job",
    "velero.io/pod",
    "velero.io/pod-volume-restore",
    "velero.io/pvc",
    "velero.io/role-bindings",
    "velero.io/secret",
    "velero.io/service",
    "velero.io/service-account",
    "velero.io/csi-pvc-restorer",
    "velero.io/csi-volumesnapshot-restorer",
    "velero.io/csi-volumesnapshotclass-restorer",
    "velero.io/csi-volumesnapshotcontent-restorer",
]

PLUGIN_MODULE = '''
from restoreflow.actions.base import ActionResult, AppliesTo, ResourceIdentifier


class AddAnnotation:
    """Marks every ConfigMap in namespace shop and restores its Secret first."""

    name = "example.com/annotate"

    def applies_to(self):
        return AppliesTo(included_resources=("configmaps",), included_namespaces=("shop",))

    def execute(self, action_input):
        item = action_input.item
        item["metadata"].setdefault("annotations", {})["example.com/restored-by"] = action_input.restore.name
        return ActionResult(item=item, additional_items=[ResourceIdentifier("secrets", "shop", "creds")])


class Raises:
    name = "example.com/raises"

    def applies_to(self):
        return AppliesTo(included_resources=("secrets",))

    def execute(self, action_input):
        raise RuntimeError("cannot reach the vault")


class WrongReturn:
    name = "example.com/wrong-return"

    def applies_to(self):
        return AppliesTo(included_resources=("secrets",))

    def execute(self, action_input):
        return {"item": action_input.item}


class BadAppliesTo:
    name = "example.com/bad-applies-to"

    def applies_to(self):
        return {"included_resources": ["pods"]}

    def execute(self, action_input):
        return ActionResult(item=action_input.item)


def make_duplicate():
    action = AddAnnotation()
    action.name = "velero.io/pod"
    return action


class NotAnAction:
    pass
'''

ENTRY_POINTS = {
    "annotate": "{module}:AddAnnotation",
    "raises": "{module}:Raises",
    "wrong-return": "{module}:WrongReturn",
    "bad-applies-to": "{module}:BadAppliesTo",
    "duplicate": "{module}:make_duplicate",
    "not-an-action": "{module}:NotAnAction",
    "missing-module": "{module}_nowhere:Thing",
}


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Install the example plugin package on sys.path with its entry points, as pip would."""
    with installed_plugin(tmp_path, monkeypatch, PLUGIN_MODULE, ENTRY_POINTS):
        yield


@pytest.fixture
def plugins(installed: None) -> LoadedActions:
    return load_actions(make_plan())


def test_builtin_actions_run_in_velero_order() -> None:
    actions = load_actions(make_plan())
    assert [a.name for a in actions][: len(VELERO_ORDER)] == VELERO_ORDER


def test_plugins_follow_the_builtins_sorted_by_name(plugins: Any) -> None:
    names = [a.name for a in plugins]
    assert names[: len(VELERO_ORDER)] == VELERO_ORDER
    assert names[len(VELERO_ORDER) :] == [
        "example.com/annotate",
        "example.com/raises",
        "example.com/wrong-return",
    ]


def test_broken_plugins_are_reported_once_as_warnings(plugins: Any) -> None:
    warnings = "\n".join(plugins.problems)
    assert len(plugins.problems) == 4
    assert "bad-applies-to" in warnings and "applies_to() returned dict, want AppliesTo" in warnings
    assert "duplicate" in warnings and "an action named velero.io/pod is already registered" in warnings
    assert "not-an-action" in warnings and "NotAnAction is not a restore item action" in warnings
    assert "missing-module" in warnings and "ModuleNotFoundError" in warnings


def plugin(actions: Any, name: str) -> PluginAction:
    return next(a for a in actions if a.name == name)


def configmap() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}}


def test_a_working_plugin_changes_the_item_and_adds_items(plugins: Any) -> None:
    action = plugin(plugins, "example.com/annotate")
    assert action.applies_to() == AppliesTo(included_resources=("configmaps",), included_namespaces=("shop",))
    item = configmap()
    result = action.execute(ActionInput(item, configmap(), View(make_plan(), name="nightly")))
    assert isinstance(result, ActionResult)
    assert result.item["metadata"]["annotations"] == {"example.com/restored-by": "nightly"}
    assert [(r.group_resource, r.namespace, r.name) for r in result.additional_items] == [
        ("secrets", "shop", "creds")
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("example.com/raises", "plugin example.com/raises raised RuntimeError: cannot reach the vault"),
        ("example.com/wrong-return", "plugin example.com/wrong-return returned dict, want ActionResult"),
    ],
)
def test_a_failing_plugin_fails_only_its_item(plugins: Any, name: str, message: str) -> None:
    with pytest.raises(ActionError) as error:
        plugin(plugins, name).execute(ActionInput(configmap(), configmap(), View(make_plan())))
    assert str(error.value) == message


def test_plugins_in_a_restore(installed: None, sandbox: Any, tmp_path: Path) -> None:
    """A working plugin changes its items and restores their additional items first; a failing one
    fails only the items it touched; a broken one is one restore warning."""
    storage = str(tmp_path / "bsl")
    creds = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "shop"},
        "type": "Opaque",
        "data": {"password": "aHVudGVyMg=="},
    }
    BackupBuilder("b1").add_all([configmap(), creds]).write(storage)
    plan = plan_from_document(
        {
            "apiVersion": "restoreflow.dev/v1alpha1",
            "kind": "RestorePlan",
            "metadata": {"name": "plugins"},
            "spec": {
                "source": {"storageLocation": storage, "backupName": "b1"},
                "target": {"kubeconfig": sandbox.kubeconfig},
            },
        }
    )
    result = run_restore(plan, restore_name="with-plugins")
    annotations = sandbox.get("configmaps", "settings", "shop")["metadata"]["annotations"]
    assert annotations == {"example.com/restored-by": "with-plugins"}
    assert sandbox.get("secrets", "creds", "shop") is None  # the additional item failed in the raising plugin
    assert result.results["errors"]["namespaces"]["shop"] == [
        "error preparing secrets/shop/creds: "
        "plugin example.com/raises raised RuntimeError: cannot reach the vault"
    ]
    velero_warnings = "\n".join(result.results["warnings"]["velero"])
    assert "missing-module" in velero_warnings and "bad-applies-to" in velero_warnings
    assert result.phase == "PartiallyFailed"
    assert "aHVudGVyMg==" not in json.dumps(result.results)


def test_the_table_runs_veleros_actions_by_name_then_the_csi_ones() -> None:
    assert all(cls.name == name for name, cls in BUILTIN_ACTIONS.items())
    names = list(BUILTIN_ACTIONS)
    csi = [name for name in names if name.startswith("velero.io/csi-")]
    assert names == sorted(set(names) - set(csi)) + sorted(csi)
    assert [action.name for action in load_actions()][: len(names)] == names
