"""pytest fixtures for the sandbox API server.

- `sandbox_server` (session): one sandbox per test process (per xdist worker), in a background thread.
- `sandbox` (function): that sandbox reset to its initial state before the test (faults and request
  log cleared), so tests are isolated and start in milliseconds. Options for one test come from the
  marker: `@pytest.mark.sandbox(velero_crds=True, pod_running_delay=0.5)` (SandboxOptions fields).

Both yield a `restoreflow.sandbox.Sandbox`: `sandbox.api_client()`, `sandbox.kubeconfig`,
`sandbox.objects(...)`, `sandbox.requests()`, `sandbox.add_fault(...)`, `sandbox.configure(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from restoreflow.sandbox.handle import Sandbox, start_sandbox


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sandbox(**options): start the `sandbox` fixture with these SandboxOptions (e.g. velero_crds=True)",
    )


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with start_sandbox() as sb:
        yield sb


@pytest.fixture
def sandbox(sandbox_server: Sandbox, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    marker = request.node.get_closest_marker("sandbox")
    sandbox_server.reset(**(marker.kwargs if marker else {}))
    yield sandbox_server
