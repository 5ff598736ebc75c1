"""Restore plans: load, validate and normalize (never imports Prefect)."""

from restoreflow.plan.model import RestorePlan, RestoreSpec

__all__ = ["RestorePlan", "RestoreSpec"]
