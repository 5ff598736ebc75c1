"""Prefect entrypoint named in prefect.yaml: `flows/restore.py:restore`."""

from restoreflow.orchestration import restore

__all__ = ["restore"]

if __name__ == "__main__":
    import sys

    restore(plan=sys.argv[1] if len(sys.argv) > 1 else "plans/demo.yaml")
