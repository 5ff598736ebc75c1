"""Fixtures for action tests that read the target cluster: the sandbox through the real client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from restoreflow.cluster import Cluster


@pytest.fixture
def cluster(sandbox: Any) -> Iterator[Cluster]:
    """The engine's Cluster (a ClusterReader) over HTTP to the sandbox."""
    client = Cluster(sandbox.api_client())
    yield client
    client.close()
