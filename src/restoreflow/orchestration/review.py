"""The preview and the verification in a flow run: their tasks and their Prefect artifacts.

A flow run with `dry_run` previews instead of restoring: one task, a table artifact (per resource, the
items of each decision) and a Markdown artifact (the report, then every item that is not a plain
create). The verify phase publishes its report as a Markdown artifact.
"""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from restoreflow import restore as engine
from restoreflow.orchestration.observe import artifact_key
from restoreflow.plan.model import RestorePlan
from restoreflow.restore.preview import Preview, preview
from restoreflow.restore.verify import Verification
from restoreflow.review import preview_markdown, preview_rows, verification_text


@task(name="preview", task_run_name="preview", cache_policy=NO_CACHE, persist_result=False)
def preview_phase(plan: RestorePlan, restore_name: str, backup_name: str | None) -> Preview:
    return preview(plan, restore_name=restore_name, backup_name=backup_name)


def run_preview(plan: RestorePlan, restore_name: str, backup_name: str | None) -> State:
    """The flow run of a dry run: Completed with the counts, or FailedValidation."""
    try:
        result = preview_phase(plan, restore_name, backup_name)
    except engine.ValidationFailed as failed:
        return Failed(name="FailedValidation", message=f"restore {restore_name} failed validation: {failed}")
    publish_preview(restore_name, result)
    counts = ", ".join(f"{count} {decision}" for decision, count in result.totals().items()) or "nothing"
    message = f"preview of restore {restore_name}: {counts}; nothing was written"
    return Completed(message=message, data=result.to_dict(details=False))


def publish_preview(restore_name: str, result: Preview) -> None:
    totals = result.totals()
    create_table_artifact(
        table=preview_rows(result),
        key=artifact_key(restore_name, "preview"),
        description=f"Preview of restore {restore_name}: {sum(totals.values())} items",
    )
    create_markdown_artifact(
        markdown=preview_markdown(result),
        key=artifact_key(restore_name, "preview-report"),
        description=f"restoreflow plan preview: restore {restore_name}",
    )


def publish_verification(restore_name: str, result: Verification) -> None:
    verdict = "Passed" if result.ok else "Failed"
    report = verification_text(result)
    create_markdown_artifact(
        markdown=f"# Verification of restore {restore_name}: {verdict}\n\n```\n{report}```\n",
        key=artifact_key(restore_name, "verification"),
        description=result.reason or f"Restore {restore_name} verified",
    )
