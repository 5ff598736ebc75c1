"""The Prefect layer: the `restore` flow, its artifacts, events and target locks, the local server.

`restore` is imported on first use, so that `restoreflow.orchestration.server` (for the CLI's
`server status`) does not import Prefect.
"""

from typing import Any

__all__ = ["restore"]


def __getattr__(name: str) -> Any:
    if name == "restore":
        from restoreflow.orchestration.flow import restore

        return restore
    raise AttributeError(name)
