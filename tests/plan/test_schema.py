"""The schema is the contract: complete, self-describing, shipped, and in step with the model."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from restoreflow.plan import load_plan_text, plan_schema
from restoreflow.plan.model import NON_RESTORABLE_RESOURCES, RestoreSpec, Source

ROOT = Path(__file__).resolve().parents[2]
PLANS = sorted((ROOT / "plans").glob("*.yaml"))
# Where the keys are the user's: fsspec options, label and annotation maps, name mappings, version
# priorities per resource, init containers, patches.
FREE_FORM = {
    "$.properties.metadata.properties.annotations",
    "$.$defs.source.properties.options",
    "$.$defs.spec.properties.namespaceMapping",
    "$.$defs.apiGroupVersionPriorities",
    "$.$defs.transforms.properties.storageClassMapping",
    "$.$defs.transforms.properties.nodeMapping",
    "$.$defs.initHook.properties.initContainers.items",
    "$.$defs.patchData.properties.patchData",
    "$.$defs.labelMap",
}
MINIMAL = """\
apiVersion: restoreflow.dev/v1alpha1
kind: RestorePlan
metadata: {name: minimal}
spec:
  source: {storageLocation: /backups, backupName: b}
"""


def walk(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}[{index}]")


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    schema = plan_schema()
    while "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def properties() -> Iterator[tuple[str, dict[str, Any]]]:
    for where, node in walk(plan_schema()):
        for name, prop in (
            node.get("properties", {}).items() if isinstance(node.get("properties"), dict) else []
        ):
            yield f"{where}.properties.{name}", resolve(prop)


def test_schema_is_valid_json_schema_2020_12() -> None:
    assert plan_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(plan_schema())


def test_repository_schema_is_a_relative_link_to_the_packaged_one() -> None:
    link = ROOT / "schemas" / "restore-plan.schema.json"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert json.loads(link.read_text()) == plan_schema()


def test_every_property_has_a_description() -> None:
    missing = [where for where, prop in properties() if not prop.get("description")]
    assert missing == []


def test_objects_reject_unknown_properties_except_free_form_places() -> None:
    open_objects = [
        where
        for where, node in walk(plan_schema())
        if "object" in (node.get("type") if isinstance(node.get("type"), list) else [node.get("type")])
        and node.get("additionalProperties") is not False
        and where not in FREE_FORM
    ]
    assert open_objects == []


def test_enums_are_enums() -> None:
    spec = plan_schema()["$defs"]["spec"]["properties"]
    assert spec["existingResourcePolicy"]["enum"] == ["none", "update", ""]
    assert plan_schema()["$defs"]["execHook"]["properties"]["onError"]["enum"] == ["Continue", "Fail"]
    operator = plan_schema()["$defs"]["labelSelector"]["properties"]["matchExpressions"]["items"]
    assert operator["properties"]["operator"]["enum"] == ["In", "NotIn", "Exists", "DoesNotExist"]


def test_durations_and_names_have_patterns_editors_can_check() -> None:
    defs = plan_schema()["$defs"]
    for name in ("duration", "dns1123Label", "dns1123Subdomain", "labelKey", "labelValue"):
        assert defs[name]["pattern"].startswith("^") and defs[name]["pattern"].endswith("$")
    duration = Draft202012Validator({"$ref": "#/$defs/duration", "$defs": defs})
    assert duration.is_valid("1h30m") and duration.is_valid("250ms") and duration.is_valid("0")
    assert not duration.is_valid("4 hours") and not duration.is_valid("30")


def test_schema_defaults_are_the_model_defaults() -> None:
    """Filling the schema's defaults gives exactly the model's defaults."""
    spec = load_plan_text(MINIMAL).spec
    expected = RestoreSpec(
        source=Source(storage_location="/backups", backup_name="b"),
        excluded_resources=NON_RESTORABLE_RESOURCES,
    )
    assert spec == expected


def test_every_defaulted_model_field_has_a_schema_default() -> None:
    defaults = {where.rsplit(".", 1)[-1] for where, prop in properties() if "default" in prop}
    for name in ("restorePVs", "preserveNodePorts", "existingResourcePolicy", "itemOperationTimeout"):
        assert name in defaults
    timeouts = plan_schema()["$defs"]["timeouts"]
    assert {k: v["default"] for k, v in timeouts["properties"].items()} == timeouts["default"]
    assert timeouts["default"] == {
        "fsBackupRestore": "4h",
        "crdAvailable": "1m",
        "terminatingResource": "10m",
        "execHook": "30s",
        "hookWait": "10m",
        "resource": "10m",
    }
    concurrency = plan_schema()["$defs"]["concurrency"]
    assert concurrency["default"] == {"workers": 32, "qps": 100, "burst": 100}


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_example_plans_declare_the_schema_and_pass_it_as_editors_check(path: Path) -> None:
    text = path.read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schemas/restore-plan.schema.json"
    assert (path.parent / "../schemas/restore-plan.schema.json").resolve().is_file()
    errors = list(Draft202012Validator(plan_schema()).iter_errors(YAML(typ="safe").load(text)))
    assert errors == []
