"""Which failures a phase retries: transient faults yes, what a retry cannot fix never."""

from __future__ import annotations

import pytest

from restoreflow.backup import BackupError
from restoreflow.cluster import ApiError, ConnectionFault
from restoreflow.orchestration.flow import worth_retrying
from restoreflow.plan import PlanError
from restoreflow.restore import RestoreCancelled, ValidationFailed


@pytest.mark.parametrize(
    "error",
    [
        ConnectionFault("GET /api: connection reset by peer"),
        ApiError(429, "TooManyRequests", "slow down"),
        ApiError(503, "ServiceUnavailable", "etcd leader changed"),
        TimeoutError("read timed out"),
    ],
)
def test_transient_faults_are_retried(error: BaseException) -> None:
    assert worth_retrying(error)


@pytest.mark.parametrize(
    "error",
    [
        BackupError(
            'backup archive demo-backup.tar.gz: invalid archive path "../../x": escapes target directory'
        ),
        ValidationFailed(['backup "nope" not found']),
        RestoreCancelled(),
        PlanError([]),
        ApiError(403, "Forbidden", 'configmaps is forbidden: User "drill" cannot create'),
        ApiError(401, "Unauthorized", "Unauthorized"),
        ApiError(422, "Invalid", "spec.ports: Invalid value"),
    ],
)
def test_what_a_retry_cannot_fix_is_never_retried(error: BaseException) -> None:
    assert not worth_retrying(error)
