"""Velero's resource modifiers: rules that patch items on their way into the cluster.

Rules come from the plan (`transforms.resourceModifiers`) and from the ConfigMap that
`spec.resourceModifier` names in `transforms.veleroNamespace` (Velero's format: one data key
holding the YAML). ConfigMap rules run first and the plan's rules after them, so the plan wins
where both patch the same field.

Format: `{version: v1, resourceModifierRules: [{conditions: {groupResource, resourceNameRegex,
namespaces, labelSelector, matches: [{path, value}]}, patches | mergePatches | strategicPatches}]}`.
As in Velero: conditions are evaluated against the object as it was before any rule ran;
`groupResource` is a glob with `.` as separator; the name regex is searched (unanchored);
namespaces match the ORIGINAL namespace and do not restrict cluster-scoped items; `matches` are
JSON Patch tests (a failed test or missing path means no match); one patch kind per rule, with
priority patches > mergePatches > strategicPatches; JSON Patch values are strings read as JSON when
they look like a number, bool, null, object or array (`"..."` forces a string); a failing `test`
inside `patches` leaves the object unchanged. Errors are reported per item; the item is still restored.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from restoreflow.actions.base import RestoreView
from restoreflow.kube.fields import nested
from restoreflow.kube.patches import (
    PatchError,
    PatchPathMissing,
    PatchTestFailed,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from restoreflow.kube.selectors import SelectorError, from_label_selector
from restoreflow.plan.matching import IncludesExcludes, compile_glob

SUPPORTED_VERSION = "v1"
JSON_PATCH_OPERATIONS = ("add", "remove", "replace", "test", "move", "copy")
_RULE_KEYS = {"conditions", "patches", "mergePatches", "strategicPatches"}
_CONDITION_KEYS = {"namespaces", "groupResource", "resourceNameRegex", "labelSelector", "matches"}


class ResourceModifierError(ValueError):
    """Rules that cannot be read or are invalid; the message is Velero's validation error."""


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


def patch_value(raw: str) -> Any:
    """Velero's reading of a JSON Patch value written as a string."""
    if raw == "":
        return ""
    if raw.startswith('"') and raw.endswith('"'):
        return raw[1:-1]
    if raw == "null" or raw.lower() in ("true", "false") or raw[0] in "{[" or _is_float(raw):
        try:
            return json.loads(raw)
        except ValueError as error:
            raise PatchError(f"error in decoding json patch {error}") from None
    return raw


def _raw(value: Any) -> str:
    """A patch value as Velero receives it: a string (YAML scalars other than strings as JSON)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(_plain(value))


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ModifierRule:
    conditions: Mapping[str, Any]
    patches: tuple[Mapping[str, Any], ...] = ()
    merge_patches: tuple[Mapping[str, Any], ...] = ()
    strategic_patches: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_document(cls, doc: Any) -> ModifierRule:
        _strict(doc, _RULE_KEYS, "resourceModifierRules[]")
        conditions = doc.get("conditions") or {}
        _strict(conditions, _CONDITION_KEYS, "conditions")
        rule = cls(
            conditions,
            tuple(doc.get("patches") or ()),
            tuple(doc.get("mergePatches") or ()),
            tuple(doc.get("strategicPatches") or ()),
        )
        rule.validate()
        return rule

    def validate(self) -> None:
        if not self.conditions.get("groupResource"):
            raise ResourceModifierError("groupkResource cannot be empty")
        if sum(1 for kind in (self.patches, self.merge_patches, self.strategic_patches) if kind) > 1:
            raise ResourceModifierError(
                "only one of patches, mergePatches, strategicPatches can be specified"
            )
        for patch in self.patches:
            operation = str(patch.get("operation") or "")
            if not operation:
                raise ResourceModifierError("operation cannot be empty")
            if operation.lower() not in JSON_PATCH_OPERATIONS:
                raise ResourceModifierError(f"unsupported operation {operation}")
            if not patch.get("path"):
                raise ResourceModifierError("path cannot be empty")

    def matches(self, obj: Mapping[str, Any], group_resource: str, namespace: str) -> bool:
        """Whether the conditions hold; raises PatchError for conditions that cannot be evaluated."""
        c = self.conditions
        if namespace and not IncludesExcludes.of(c.get("namespaces") or ()).should_include(namespace):
            return False
        pattern = compile_glob(str(c["groupResource"]), ".")
        if pattern is None:
            raise PatchError(f"bad glob pattern of groupResource in condition: {c['groupResource']}")
        if not pattern.match(group_resource):
            return False
        if c.get("resourceNameRegex"):
            try:
                if not re.search(str(c["resourceNameRegex"]), str(nested(obj, "metadata", "name") or "")):
                    return False
            except re.error as error:
                raise PatchError(f"error in matching regex {error}") from None
        if c.get("labelSelector") is not None:
            try:
                selector = from_label_selector(c["labelSelector"])
            except SelectorError as error:
                raise PatchError(f"error in creating label selector {error}") from None
            if not selector.matches(nested(obj, "metadata", "labels")):
                return False
        return self._matches_values(obj)

    def _matches_values(self, obj: Mapping[str, Any]) -> bool:
        tests = []
        for match in self.conditions.get("matches") or ():
            if not match.get("path"):
                raise PatchError("path is required for match rule")
            tests.append(
                {"op": "test", "path": match["path"], "value": patch_value(_raw(match.get("value")))}
            )
        if not tests:
            return True
        try:
            apply_json_patch(obj, tests)
        except (PatchTestFailed, PatchPathMissing):
            return False
        return True

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The patched object; raises PatchError with Velero's wording."""
        if self.patches:
            try:
                operations = [self._operation(p) for p in self.patches]
                patched: dict[str, Any] = apply_json_patch(obj, operations)
                return patched
            except PatchTestFailed:
                return obj
            except PatchError as error:
                raise PatchError(f"error in applying patch error in applying JSON Patch {error}") from None
        if self.merge_patches:
            return self._apply_documents(obj, self.merge_patches, apply_merge_patch, "JSON Patch")
        if self.strategic_patches:
            return self._apply_documents(
                obj, self.strategic_patches, apply_strategic_merge_patch, "Strategic Patch"
            )
        raise PatchError("no patch data found")

    @staticmethod
    def _operation(patch: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "op": patch.get("operation"),
            "from": patch.get("from", ""),
            "path": patch.get("path", ""),
            "value": patch_value(_raw(patch.get("value"))),
        }

    @staticmethod
    def _apply_documents(
        obj: dict[str, Any], patches: Sequence[Mapping[str, Any]], merge: Any, kind: str
    ) -> dict[str, Any]:
        for patch in patches:
            try:
                data = _yaml(str(patch.get("patchData") or "{}"))
            except YAMLError as error:
                raise PatchError(
                    f"error in applying patch error in converting YAML to JSON {error}"
                ) from None
            try:
                obj = merge(obj, data)
            except PatchError as error:
                raise PatchError(f"error in applying patch error in applying {kind}: {error}") from None
            if not isinstance(obj, dict):
                raise PatchError(
                    "error in applying patch error in unmarshalling modified object: not an object"
                )
        return obj


DECODE_ERROR = "failed to decode yaml data into resource modifiers, err:"


def _strict(doc: Any, allowed: set[str], where: str) -> None:
    """Velero reads rules strictly: unknown fields are errors."""
    if not isinstance(doc, Mapping):
        raise ResourceModifierError(f"{DECODE_ERROR} {where} must be a map")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise ResourceModifierError(f'{DECODE_ERROR} unknown field "{unknown[0]}" in {where}')


class ResourceModifiers:
    """The resource modifier rules of one restore (possibly none)."""

    def __init__(self, rules: Sequence[ModifierRule] = ()) -> None:
        self.rules = tuple(rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    @classmethod
    def from_document(cls, doc: Any) -> ResourceModifiers:
        """Parse and validate `{version, resourceModifierRules}` (raises ResourceModifierError)."""
        _strict(doc, {"version", "resourceModifierRules"}, "the document")
        if str(doc.get("version", "")).lower() != SUPPORTED_VERSION:
            raise ResourceModifierError(f"unsupported resource modifier version {doc.get('version', '')}")
        rules = doc.get("resourceModifierRules") or []
        if not rules:
            raise ResourceModifierError("resource modifier rules cannot be empty")
        return cls([ModifierRule.from_document(rule) for rule in rules])

    @classmethod
    def from_config_map(cls, config_map: Mapping[str, Any]) -> ResourceModifiers:
        """Rules from a ConfigMap with exactly one data key, with Velero's validation messages."""
        where = f"{nested(config_map, 'metadata', 'namespace')}/{nested(config_map, 'metadata', 'name')}"
        data = config_map.get("data") or {}
        try:
            if len(data) != 1:
                raise ResourceModifierError(f"illegal resource modifiers {where} configmap")
            try:
                doc = _yaml(next(iter(data.values())))
            except YAMLError as error:
                raise ResourceModifierError(f"{DECODE_ERROR} {error}") from None
            _strict(doc, {"version", "resourceModifierRules"}, "the document")
        except ResourceModifierError as error:
            raise ResourceModifierError(
                f"Error in parsing resource modifiers provided in configmap {where}: {error}"
            ) from None
        try:
            return cls.from_document(doc)
        except ResourceModifierError as error:
            raise ResourceModifierError(
                f"Validation error in resource modifiers provided in configmap {where}: {error}"
            ) from None

    @classmethod
    def from_plan(cls, restore: RestoreView) -> ResourceModifiers:
        """The ConfigMap's rules (when `spec.resourceModifier` names one) then the plan's inline rules.
        Raises ResourceModifierError with Velero's validation messages."""
        spec = restore.plan.spec
        rules: list[ModifierRule] = []
        reference = spec.resource_modifier
        if reference and str(reference.get("kind", "")).lower() == "configmap":
            namespace, name = spec.transforms.velero_namespace, reference.get("name", "")
            config_map = restore.cluster.get("configmaps", name, namespace)
            if config_map is None:
                raise ResourceModifierError(f"failed to get resource modifiers configmap {namespace}/{name}")
            rules.extend(cls.from_config_map(config_map).rules)
        if spec.transforms.resource_modifiers:
            try:
                rules.extend(cls.from_document(_plain(spec.transforms.resource_modifiers)).rules)
            except ResourceModifierError as error:
                raise ResourceModifierError(
                    f"Validation error in the plan's resource modifiers: {error}"
                ) from None
        return cls(rules)

    def apply(self, obj: dict[str, Any], group_resource: str, original_namespace: str) -> list[str]:
        """Patch `obj` in place with every matching rule; the errors, one message each."""
        errors: list[str] = []
        origin = copy.deepcopy(obj) if len(self.rules) > 1 else obj
        current = obj
        for rule in self.rules:
            try:
                if not rule.matches(origin, group_resource, original_namespace):
                    continue
                current = rule.apply(current)
            except PatchError as error:
                errors.append(str(error))
        if current is not obj:
            obj.clear()
            obj.update(current)
        return errors


def _plain(value: Any) -> Any:
    """Read-only plan mappings as plain dicts/lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
