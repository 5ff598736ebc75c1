"""Restore plans: load, validate and normalize (never imports Prefect or kubernetes).

A plan is YAML with Velero's Restore spec under `spec`; `load_plan` returns the typed, immutable
`RestorePlan` with every default filled in, or raises `PlanError` listing every problem as
`FILE:LINE:COLUMN: json.path: message`.
"""

from restoreflow.plan.errors import PlanError, Problem
from restoreflow.plan.loader import load_plan, load_plan_text, plan_from_document, plan_to_document
from restoreflow.plan.model import RestorePlan, RestoreSpec
from restoreflow.plan.schema import plan_schema
from restoreflow.plan.velero import velero_restore_to_document

__all__ = [
    "PlanError",
    "Problem",
    "RestorePlan",
    "RestoreSpec",
    "load_plan",
    "load_plan_text",
    "plan_from_document",
    "plan_schema",
    "plan_to_document",
    "velero_restore_to_document",
]
