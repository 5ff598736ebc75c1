"""The Prefect layer: the `restore` flow, its artifacts, events and target locks."""

from restoreflow.orchestration.flow import restore

__all__ = ["restore"]
