"""API errors carrying the Kubernetes Status (code, reason, message, causes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

RETRYABLE_CODES = frozenset({429, 500, 502, 503, 504})


class ApiError(Exception):
    """A Kubernetes API call answered with an error Status; str() is the Status message, like client-go."""

    def __init__(self, code: int, reason: str, message: str, status: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.status: Mapping[str, Any] = status or {}
        self.retry_after: float | None = None
        # an earlier attempt of this call got no answer (reset, timeout): a write may be applied already
        self.after_lost_answer = False

    @property
    def causes(self) -> list[dict[str, Any]]:
        return list((self.status.get("details") or {}).get("causes") or [])

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES

    @property
    def not_found(self) -> bool:
        return self.code == 404

    @property
    def already_exists(self) -> bool:
        return self.code == 409 and self.reason == "AlreadyExists"

    @property
    def conflict(self) -> bool:
        return self.code == 409 and self.reason != "AlreadyExists"

    @classmethod
    def from_response(cls, code: int, body: bytes, headers: Mapping[str, str] | None = None) -> ApiError:
        """Decode a Status body; a non-Status body gives client-go's generic wording."""
        status: dict[str, Any] = {}
        try:
            decoded = json.loads(body) if body else {}
            if isinstance(decoded, dict) and decoded.get("kind") == "Status":
                status = decoded
        except ValueError:
            pass
        reason = status.get("reason") or _GENERIC_REASONS.get(code, "Unknown")
        message = status.get("message") or _generic_message(code, body)
        error = cls(code, reason, message, status)
        error.retry_after = _retry_after(headers)
        return error


class ConnectionFault(Exception):
    """The API could not be reached or dropped the connection (after the retries)."""


_GENERIC_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

_GENERIC_MESSAGES = {
    404: "the server could not find the requested resource",
    409: "the server reported a conflict",
    429: "the server has received too many requests and has asked us to try again later",
    500: "an error on the server has prevented the request from succeeding",
    502: "the server responded with a bad gateway",
    503: "the server is currently unable to handle the request",
    504: (
        "the server was unable to return a response in the time allotted, "
        "but may still be processing the request"
    ),
}


def _generic_message(code: int, body: bytes) -> str:
    if code in _GENERIC_MESSAGES:
        return _GENERIC_MESSAGES[code]
    text = body.decode("utf-8", "replace").strip()[:200] if body else ""
    return f"the server returned HTTP {code}" + (f": {text}" if text else "")


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
