"""The Status answers a server gives for patch and apply failures, as typed API errors.

Owns the shapes ``k8s.io/apimachinery/pkg/api/errors`` builds for the failures of this package:
``NewBadRequest`` (400), ``NewNotFound`` (404), ``NewApplyConflict`` (409 with one
``FieldManagerConflict`` cause per field), ``NewRequestEntityTooLargeError`` (413), the
negotiation 415, ``NewInvalid`` (422 with causes), the generic 422 of a JSON patch that does not
apply, and a plain error's 500 (reason left empty, as ``ErrorToAPIStatus`` leaves it). Each is
raised as the :mod:`kubespark.kube.errors` class a client would see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubespark.kube.errors import (
    APIError,
    BadRequest,
    Conflict,
    Invalid,
    NotFound,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    error_for_status,
)
from kubespark.patch.fieldmanager import Conflicts
from kubespark.patch.fieldpath import path_string
from kubespark.patch.managed import print_manager
from kubespark.patch.values import go_quote

# kubespark.kube.status (a pydantic model) is imported by each function that builds a Status:
# `kubespark validate` loads this package to check manifests and, for most manifests, never
# builds a failure; the import would cost every such run pydantic's start-up.

__all__ = [
    "FieldError",
    "bad_request",
    "conflict",
    "internal",
    "invalid",
    "json_patch_failed",
    "not_found",
    "too_large",
    "unsupported_media_type",
]


def bad_request(message: str) -> APIError:
    from kubespark.kube.status import Status

    return BadRequest(Status.failure(400, message, reason="BadRequest"))


def not_found(group: str, resource: str, name: str) -> APIError:
    from kubespark.kube.status import Status, StatusDetails

    qualified = f"{resource}.{group}" if group else resource
    details = StatusDetails(group=group or None, kind=resource, name=name or None)
    message = f"{qualified} {go_quote(name)} not found"
    return NotFound(Status.failure(404, message, reason="NotFound", details=details))


def too_large(message: str) -> APIError:
    from kubespark.kube.status import Status

    status = Status.failure(
        413, f"Request entity too large: {message}", reason="RequestEntityTooLarge"
    )
    return RequestEntityTooLarge(status)


def unsupported_media_type(accepted: Sequence[str]) -> APIError:
    """negotiation.NewUnsupportedMediaTypeError, as the patch handler answers it."""
    from kubespark.kube.status import Status

    message = "the body of the request was in an unknown format - accepted media types include: "
    status = Status.failure(415, message + ", ".join(accepted), reason="UnsupportedMediaType")
    return UnsupportedMediaType(status)


def internal(message: str) -> APIError:
    """A plain Go error reaching the handler: 500, no reason, no details."""
    from kubespark.kube.status import Status

    return error_for_status(Status.failure(500, message, reason=""))


def json_patch_failed() -> APIError:
    """A JSON patch that does not apply: 422 with the generic text and empty details.

    The handler wraps the json-patch library's error with NewGenericServerResponse, which keeps
    only "the server rejected our request due to an error in our request" (patch.go).
    """
    from kubespark.kube.status import Status, StatusDetails

    status = Status.failure(
        422,
        "the server rejected our request due to an error in our request",
        reason="Invalid",
        details=StatusDetails(),
    )
    return Invalid(status)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One ``field.Error``: type (``FieldValueRequired``...), field path, and its body."""

    type: str
    field: str
    body: str

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def invalid(group: str, kind: str, name: str, errors: Sequence[FieldError]) -> APIError:
    """``NewInvalid``: ``Kind.group "name" is invalid: <one error | [e1, e2]>``."""
    from kubespark.kube.status import Status, StatusCause, StatusDetails

    qualified = f"{kind}.{group}" if group else kind
    causes = [StatusCause(reason=e.type, message=e.body, field=e.field) for e in errors]
    details = StatusDetails(
        group=group or None, kind=kind or None, name=name or None, causes=causes
    )
    if not errors:
        message = f"{qualified} {go_quote(name)} is invalid"
    elif len(errors) == 1:
        message = f"{qualified} {go_quote(name)} is invalid: {errors[0]}"
    else:
        joined = ", ".join(str(e) for e in errors)
        message = f"{qualified} {go_quote(name)} is invalid: [{joined}]"
    return Invalid(Status.failure(422, message, reason="Invalid", details=details))


def conflict(conflicts: Conflicts) -> APIError:
    """``NewConflictError``: 409, one cause per conflicting field, managers sorted."""
    from kubespark.kube.status import Status, StatusCause, StatusDetails

    found = conflicts.conflicts
    causes = [
        StatusCause(
            reason="FieldManagerConflict",
            message=f"conflict with {print_manager(c.manager)}",
            field=path_string(c.path),
        )
        for c in found
    ]
    if len(found) == 1:
        only = found[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {print_manager(only.manager)}: "
            f"{path_string(only.path)}"
        )
    else:
        lines: list[str] = []
        for manager in sorted({c.manager for c in found}):
            lines.append(f"conflicts with {print_manager(manager)}:")
            lines.extend(f"- {path_string(c.path)}" for c in found if c.manager == manager)
        message = f"Apply failed with {len(found)} conflicts: " + "\n".join(lines)
    details = StatusDetails(causes=causes)
    return Conflict(Status.failure(409, message, reason="Conflict", details=details))
