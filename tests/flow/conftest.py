"""Flow tests run the real flow on a temporary Prefect server against the sandbox."""

from tests.flow.harness import prefect_server

__all__ = ["prefect_server"]
