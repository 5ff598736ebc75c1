"""S3 on loopback for tests: moto's S3 server, one bucket per test.

Fixtures:
- `s3_server` (session): moto's `ThreadedMotoServer` on 127.0.0.1 at a free port; sets the AWS
  credential and region environment that s3fs reads. Yields the endpoint URL.
- `s3_location` (per test): a fresh, empty bucket. Returns `(url, options)`: the BSL URL
  (`s3://<bucket>/velero`) and the fsspec options that reach the server (`{"endpoint_url": ...}`).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def _s3_admin(s3_server: str) -> Any:
    """One client for creating buckets (a new s3fs client costs about a second)."""
    import s3fs

    return s3fs.S3FileSystem(endpoint_url=s3_server, skip_instance_cache=True)


@pytest.fixture
def s3_location(s3_server: str, _s3_admin: Any) -> tuple[str, dict[str, Any]]:
    bucket = f"bsl-{uuid.uuid4().hex[:20]}"
    _s3_admin.mkdir(bucket)
    return f"s3://{bucket}/velero", {"endpoint_url": s3_server}
