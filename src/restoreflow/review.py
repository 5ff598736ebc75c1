"""Text and Markdown for a preview and a verification, shared by the CLI and the Prefect artifacts."""

from __future__ import annotations

import json
from typing import Any

from restoreflow.restore.preview import (
    CREATE,
    DECISIONS,
    EXCLUDED,
    FAIL,
    RENAME,
    SKIP_WARNING,
    UPDATE,
    Preview,
)
from restoreflow.restore.verify import Verification

DETAIL_LIMIT = 200  # items listed in a Markdown artifact (the table has the counts of all)


def preview_rows(result: Preview) -> list[dict[str, Any]]:
    """Per resource, how many items get each decision; a total row last (the Prefect table)."""
    summary = result.summary()
    rows = [{"resource": r, **{d: counts.get(d, 0) for d in DECISIONS}} for r, counts in summary.items()]
    totals = result.totals()
    rows.append({"resource": "total", **{d: totals.get(d, 0) for d in DECISIONS}})
    return rows


def preview_text(result: Preview, *, details: bool = False, diff: bool = False) -> str:
    """What `restore create --dry-run` prints: the counts, what the server refused, the warnings."""
    lines = [
        f"Preview of restore {result.name} (backup {result.backup_name}): nothing was written.",
        "",
        *_table(preview_rows(result)),
    ]
    unchecked = [i for i in result.items if i.decision in (CREATE, UPDATE, RENAME) and not i.checked]
    if unchecked:
        lines += [
            "",
            f"Not judged by the API server (their namespace or type is new): {len(unchecked)} items",
        ]
    for title, decision in (("Would fail:", FAIL), ("Would be skipped with a warning:", SKIP_WARNING)):
        chosen = [i for i in result.items if i.decision == decision]
        if chosen:
            lines += ["", title, *(f"  {i.path}: {i.reason}" for i in chosen)]
    velero = (result.results.get("errors") or {}).get("velero") or []
    if velero:
        lines += ["", "Restore errors:", *(f"  {m}" for m in velero)]
    if details:
        lines += ["", "Items:", *(_item_line(i) for i in result.items)]
    if diff:
        diffs = [i.diff() for i in result.items]
        lines += ["", *(d.rstrip("\n") for d in diffs if d)]
    return "\n".join(lines) + "\n"


def _item_line(item: Any) -> str:
    line = f"  {item.decision:<13} {item.path}"
    if item.reason and item.decision not in (FAIL, SKIP_WARNING):
        line += f"  ({item.reason})"
    for transform in item.transforms:
        line += f"\n  {'':13}   {transform.step}: {', '.join(transform.changed)}"
    if item.patch is not None:
        line += f"\n  {'':13}   patch: {json.dumps(item.patch, sort_keys=True)}"
    return line


def _table(rows: list[dict[str, Any]]) -> list[str]:
    columns = ["resource", *[d for d in DECISIONS if any(r[d] for r in rows)]]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    header = "  ".join(c.upper().ljust(widths[c]) for c in columns)
    body = [
        "  ".join(str(r[c] if c == "resource" or r[c] else "").ljust(widths[c]) for c in columns)
        for r in rows
    ]
    return [header.rstrip(), *(line.rstrip() for line in body)]


def preview_markdown(result: Preview) -> str:
    """The preview as a Prefect Markdown artifact: the text, then the items that are not plain creates."""
    notable = [i for i in result.items if i.decision not in ("create", EXCLUDED)][:DETAIL_LIMIT]
    text = f"# Preview of restore {result.name}\n\n```\n{preview_text(result)}```\n"
    if notable:
        text += "\n| decision | item | reason |\n|---|---|---|\n"
        text += "".join(f"| {i.decision} | `{i.path}` | {i.reason.replace('|', '/')} |\n" for i in notable)
    return text


def verification_text(result: Verification, *, diff: bool = True) -> str:
    """What `restore verify` prints: the verdict, each mismatch (with its diff), each workload not ready."""
    verdict = "Passed" if result.ok else f"Failed ({result.reason.removeprefix('verification failed: ')})"
    lines = [
        f"Verification of restore {result.restore}: {verdict}",
        f"Objects checked: {result.checked}, missing or changed: {len(result.mismatches)}",
    ]
    for mismatch in result.mismatches:
        fields = f": {', '.join(mismatch.fields)}" if mismatch.fields else ""
        lines.append(f"  {mismatch.path} {mismatch.problem}{fields}")
        if diff and mismatch.diff:
            lines += [f"    {line}" for line in mismatch.diff.rstrip("\n").splitlines()]
    if result.skipped:
        lines.append(f"Not compared (renamed PV clones): {', '.join(result.skipped)}")
    lines.append(f"Workloads checked: {result.ready_checked}, not ready: {len(result.not_ready)}")
    for state in result.not_ready:
        lines.append(f"  {state.path}: {state.reason}")
        lines += [f"    {event}" for event in state.events]
    return "\n".join(lines) + "\n"
