"""Load, validate and normalize restore plans: every problem at once, each with its place."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from restoreflow.plan.errors import PlanError, Problem
from restoreflow.plan.model import RestorePlan
from restoreflow.plan.normalize import build_plan, normalize
from restoreflow.plan.nulls import prune_nulls
from restoreflow.plan.rules import semantic_findings
from restoreflow.plan.schema import Finding, schema_findings
from restoreflow.plan.source import JsonPath, Parsed, Positions, YamlSyntaxError, json_path, parse_yaml

REQUIRED_MISSING = "required field is missing"  # the schema's wording
REQUIRED_NULL = "required field is null, which leaves it unset: give it a value"


def load_plan(path: str | Path, *, storage_location: str | None = None) -> RestorePlan:
    """Read, validate and normalize a plan file; PlanError lists every problem.

    `storage_location` (from `--storage-location` or RESTOREFLOW_STORAGE_LOCATION) stands in for a
    missing `spec.source.storageLocation`, so one plan can serve several storage locations."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise PlanError([Problem(str(path), None, None, "", f"cannot read the plan: {reason}")]) from None
    return load_plan_text(text, str(path), storage_location=storage_location)


def load_plan_text(
    text: str, source: str = "<inline>", *, storage_location: str | None = None
) -> RestorePlan:
    """Validate and normalize plan text; `source` names it in problems."""
    parsed = parse_text(text, source)
    pruned = prune_nulls(parsed.data)
    if storage_location:
        _default_storage_location(parsed.data, storage_location)
    problems = [
        Problem(source, line + 1, col + 1, json_path(path), msg) for (line, col), path, msg in parsed.problems
    ]
    unreadable = {path for _, path, _ in parsed.problems}  # their values are explained already
    findings = [f for f in document_findings(parsed.data, pruned) if f[0] not in unreadable]
    problems += [placed(source, parsed.positions, *finding) for finding in findings]
    if problems:
        raise PlanError(problems)
    return build_plan(normalize(parsed.data), _source_file(source))


def parse_text(text: str, source: str) -> Parsed:
    """YAML text to data with positions; a syntax error is a PlanError with its position."""
    try:
        return parse_yaml(text)
    except YamlSyntaxError as err:
        line, column = err.mark
        raise PlanError([Problem(source, line + 1, column + 1, "$", str(err))]) from None


def plan_from_document(doc: Mapping[str, Any], source: str = "<document>") -> RestorePlan:
    """Validate and normalize a plain document (CLI flags, flow parameters); problems have no position."""
    data = _plain(doc)
    pruned = prune_nulls(data)
    problems = document_problems(data, source, None, pruned)
    if problems:
        raise PlanError(problems)
    return build_plan(normalize(data), _source_file(source))


def plan_to_document(plan: RestorePlan) -> dict[str, Any]:
    """The plan's normalized document (camelCase, every default filled), as plain data."""
    return copy.deepcopy(dict(plan.document))


def document_findings(data: Any, pruned: Collection[JsonPath] = ()) -> list[Finding]:
    """Schema and semantic problems of a document: (path, message, anchor).

    `pruned` are the null fields `prune_nulls` dropped: a required one is reported as null, since
    "missing" would puzzle whoever sees the field in the file."""
    if data is None:
        return [((), "the plan is empty", "value")]
    findings = schema_findings(data) + [(path, message, "value") for path, message in semantic_findings(data)]
    return [
        (path, REQUIRED_NULL if path in pruned and message == REQUIRED_MISSING else message, anchor)
        for path, message, anchor in findings
    ]


def document_problems(
    data: Any, source: str, positions: Positions | None, pruned: Collection[JsonPath] = ()
) -> list[Problem]:
    """Problems of a document, placed in the file when positions are known."""
    return [placed(source, positions, *finding) for finding in document_findings(data, pruned)]


def placed(source: str, positions: Positions | None, path: JsonPath, message: str, anchor: str) -> Problem:
    if positions is None:
        return Problem(source, None, None, json_path(path), message)
    line, column = positions.key(path) if anchor == "key" else positions.value(path)
    return Problem(source, line + 1, column + 1, json_path(path), message)


def _default_storage_location(data: Any, storage_location: str) -> None:
    """Fill `spec.source.storageLocation` when the plan leaves it out (only where the shape allows)."""
    spec = data.get("spec") if isinstance(data, dict) else None
    source = spec.get("source") if isinstance(spec, dict) else None
    if isinstance(source, dict) and "storageLocation" not in source:
        source["storageLocation"] = storage_location


def _plain(value: Any) -> Any:
    """Mappings and sequences as dicts and lists (flags and parameters may hold tuples or proxies)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _source_file(source: str) -> str | None:
    return None if source.startswith("<") else source
