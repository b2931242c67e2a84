"""The ``Status`` body Kubernetes returns for failures (and some successes), as a typed model.

Shared by both sides: the emulator renders these, the client parses them into errors. Field names
and reasons follow ``k8s.io/apimachinery/pkg/apis/meta/v1`` (StatusReason constants).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# StatusReason values for each HTTP code, as apimachinery's errors package pairs them.
REASON_FOR_CODE: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",  # or AlreadyExists, chosen by the caller
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class StatusCause(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    reason: str | None = None
    message: str | None = None
    field: str | None = None


class StatusDetails(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    name: str | None = None
    group: str | None = None
    kind: str | None = None
    uid: str | None = None
    causes: list[StatusCause] | None = None
    retryAfterSeconds: int | None = None


class Status(BaseModel):
    """``meta/v1 Status``; ``code`` mirrors the HTTP status."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = "Status"
    apiVersion: str = "v1"
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: str = "Failure"
    message: str = ""
    reason: str = ""
    details: StatusDetails | None = None
    code: int = 500

    @classmethod
    def failure(
        cls,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: StatusDetails | None = None,
    ) -> Status:
        return cls(
            code=code,
            message=message,
            reason=reason if reason is not None else REASON_FOR_CODE.get(code, ""),
            details=details,
        )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body a real API server sends: Go's ``omitempty`` drops empty reason/message."""
        body = self.model_dump(exclude_none=True)
        for optional in ("reason", "message"):
            if not body.get(optional):
                body.pop(optional, None)
        return body
