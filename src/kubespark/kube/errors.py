"""Errors from the Kubernetes API, keyed by HTTP status, carrying the typed Status body.

The type says what a caller may do about it (the shape kopf uses for its API errors, and for its
TemporaryError/PermanentError split):

- :class:`TemporaryAPIError` (429, 500 when not a typed-patch failure, 502-504, connection
  failures): retrying the same request may succeed.
- :class:`PermanentAPIError` (400, 401, 403, 404, 405, 409, 413, 415, 422, and a 500 that
  reports a rejected server-side apply body): retrying the same request will fail the same way;
  change the request or report it.

``error_for_status`` picks the class from the code; callers catch the class they can act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespark.errors import KubesparkError, UnreachableError

# Only annotations name Status here: whoever raises these errors has built one, and a process
# that never does (an offline `kubespark validate`) need not import its pydantic model.
if TYPE_CHECKING:
    from kubespark.kube.status import Status

# The text of a server-side apply body the server cannot type. Retrying never helps, so a 500
# carrying it is permanent (the compat planner exists to avoid it).
TYPED_PATCH_FAILURE = "failed to create typed patch object"


class APIError(KubesparkError):
    """The API server answered with a failure Status."""

    code: int = 0

    def __init__(self, status: Status, *, method: str = "", path: str = "") -> None:
        where = f"{method} {path}".strip() or None
        super().__init__(status.message or status.reason or f"HTTP {status.code}", where=where)
        self.status = status
        self.method = method
        self.path = path

    @property
    def reason(self) -> str:
        return self.status.reason


class TemporaryAPIError(APIError):
    """Retrying may succeed (throttling, overload, a server restarting)."""

    @property
    def retry_after(self) -> float | None:
        details = self.status.details
        return float(details.retryAfterSeconds) if details and details.retryAfterSeconds else None


class PermanentAPIError(APIError):
    """Retrying the same request fails the same way."""


class BadRequest(PermanentAPIError):
    code = 400


class Unauthorized(PermanentAPIError):
    code = 401


class Forbidden(PermanentAPIError):
    code = 403


class NotFound(PermanentAPIError):
    code = 404


class MethodNotAllowed(PermanentAPIError):
    code = 405


class Conflict(PermanentAPIError):
    """409: AlreadyExists on create, or a resourceVersion / apply field-manager conflict."""

    code = 409

    @property
    def already_exists(self) -> bool:
        return self.status.reason == "AlreadyExists"


class Gone(PermanentAPIError):
    """410: a watch's resourceVersion is too old; relist."""

    code = 410


class RequestEntityTooLarge(PermanentAPIError):
    code = 413


class UnsupportedMediaType(PermanentAPIError):
    code = 415


class Invalid(PermanentAPIError):
    code = 422


class TypedPatchRejected(PermanentAPIError):
    """500 from server-side apply: the server's schema cannot type the apply body."""

    code = 500


class TooManyRequests(TemporaryAPIError):
    code = 429


class InternalError(TemporaryAPIError):
    code = 500


class ServiceUnavailable(TemporaryAPIError):
    code = 503


class ServerTimeout(TemporaryAPIError):
    code = 504


class ConnectionFailed(TemporaryAPIError, UnreachableError):
    """No HTTP answer at all: refused, reset, TLS failure, timeout."""

    code = 0


_BY_CODE: dict[int, type[APIError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        Gone,
        RequestEntityTooLarge,
        UnsupportedMediaType,
        Invalid,
        TooManyRequests,
        InternalError,
        ServiceUnavailable,
        ServerTimeout,
    )
}


def error_for_status(status: Status, *, method: str = "", path: str = "") -> APIError:
    """The most specific error class for a failure Status."""
    if status.code == 500 and TYPED_PATCH_FAILURE in status.message:
        return TypedPatchRejected(status, method=method, path=path)
    cls = _BY_CODE.get(status.code)
    if cls is None:
        cls = TemporaryAPIError if status.code >= 500 else PermanentAPIError
    return cls(status, method=method, path=path)
