"""Kubernetes `Status` failures with the API server's exact reasons, codes and messages."""

from __future__ import annotations

from typing import Any

from restoreflow.kube import gvr


class ApiError(Exception):
    """A request failure answered with a `Status` body (or a plain-text 404 for unknown paths)."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


class PageNotFound(ApiError):
    """What the API server answers for a path no handler serves: `404 page not found` as text."""

    def __init__(self) -> None:
        super().__init__(404, "NotFound", "404 page not found")


def _details(group_resource: tuple[str, str], name: str, **extra: Any) -> dict[str, Any]:
    group, resource = group_resource
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = resource
    details.update(extra)
    return details


def _qualified(group_resource: tuple[str, str]) -> str:
    group, resource = group_resource
    return gvr.group_resource(resource, group)


def not_found(gr: tuple[str, str], name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(gr)} "{name}" not found', _details(gr, name))


def already_exists(gr: tuple[str, str], name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(gr)} "{name}" already exists', _details(gr, name))


def conflict(gr: tuple[str, str], name: str, why: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {_qualified(gr)} "{name}": {why}'
    return ApiError(409, "Conflict", message, _details(gr, name))


MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def forbidden(
    gr: tuple[str, str], name: str, why: str, causes: list[dict[str, str]] | None = None
) -> ApiError:
    extra = {"causes": causes} if causes else {}
    message = f'{_qualified(gr)} "{name}" is forbidden: {why}'
    if not name:
        message = f"{_qualified(gr)} is forbidden: {why}"
    return ApiError(403, "Forbidden", message, _details(gr, name, **extra))


def terminating(gr: tuple[str, str], name: str, namespace: str) -> ApiError:
    cause = {
        "reason": "NamespaceTerminating",
        "message": f"namespace {namespace} is being terminated",
        "field": "metadata.namespace",
    }
    why = f"unable to create new content in namespace {namespace} because it is being terminated"
    return forbidden(gr, name, why, [cause])


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message, None)


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
    )


def resource_not_found() -> ApiError:
    """A path inside a served group/version naming a resource it does not have."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def unsupported_media_type(accepted: list[str]) -> ApiError:
    message = "the body of the request was in an unknown format - accepted media types include: " + ", ".join(
        accepted
    )
    return ApiError(415, "UnsupportedMediaType", message, {})


def internal(message: str) -> ApiError:
    return ApiError(
        500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message, {})
