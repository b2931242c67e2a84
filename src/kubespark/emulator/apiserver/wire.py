"""The emulator's wire vocabulary: body decoding, JSON encoding, failures as apiserver words them.

Owns turning request bodies into objects (JSON or YAML, with apiserver's messages when they are
not), encoding answers, and building the typed API errors (``kubespark.kube.errors``) whose
``Status`` bodies and messages follow ``k8s.io/apimachinery/pkg/api/errors`` and
``pkg/util/validation/field``: ``pods "x" not found``, ``Pod "x" is invalid: spec.containers:
Required value``. It knows nothing about resources, storage or HTTP framing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from kubespark import bounded
from kubespark.kube import errors
from kubespark.kube.status import Status, StatusCause, StatusDetails

__all__ = [
    "FieldError",
    "already_exists",
    "bad_request",
    "decode_body",
    "dumps",
    "forbidden",
    "gone",
    "internal_error",
    "invalid",
    "loads",
    "method_not_allowed",
    "modified_conflict",
    "not_acceptable",
    "not_found",
    "qualified_resource",
    "status_success",
    "unsupported_media_type",
]

# The media types a write body may come in, as apiserver lists them in 415 answers.
BODY_MEDIA_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def _json_error_text(data: bytes, err: Exception) -> str:
    # encoding/json's wording for the common cases; the offset detail differs per decoder.
    stripped = data.lstrip()
    if not stripped:
        return "unexpected end of JSON input"
    first = stripped[:1].decode("latin-1")
    if first not in '{["-0123456789tfn':
        return f"invalid character {first!r} looking for beginning of value"
    return str(err).split(":", 1)[0]


def decode_body(data: bytes, media_type: str) -> Any:
    """A request body as a value; a malformed one is a 400 with apiserver's wording."""
    if media_type in ("application/yaml", "application/apply-patch+yaml"):
        try:
            text = bounded.decode(data, "body", _BODY_LIMITS)
            bounded.check_yaml(text, "body", _BODY_LIMITS)
            return yaml.load(text, Loader=_YamlLoader)
        except bounded.LimitError as err:
            raise bad_request(f"error converting YAML to JSON: yaml: {err.message}") from None
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = f"line {mark.line + 1}: " if mark is not None else ""
            raise bad_request(f"error converting YAML to JSON: yaml: {line}{err}") from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        text = _json_error_text(data, err)
        raise bad_request(f"couldn't get version/kind; json parse error: {text}") from None


# apiserver's own bound on a request body (MaxRequestBodyBytes, 3 MiB).
_BODY_LIMITS = bounded.Limits(max_bytes=3 << 20, max_line=3 << 20)


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.1 safe loading, but timestamps stay strings (Kubernetes reads YAML as JSON)."""


_YamlLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def qualified_resource(group: str, plural: str) -> str:
    """``pods`` or ``deployments.apps``: how messages name a resource."""
    return f"{plural}.{group}" if group else plural


def qualified_kind(group: str, kind: str) -> str:
    return f"{kind}.{group}" if group else kind


def _status(
    code: int, message: str, *, reason: str | None = None, details: StatusDetails | None = None
) -> Status:
    return Status.failure(code, message, reason=reason, details=details or StatusDetails())


def not_found(group: str, plural: str, name: str) -> errors.NotFound:
    details = StatusDetails(name=name, group=group or None, kind=plural)
    msg = f'{qualified_resource(group, plural)} "{name}" not found'
    return errors.NotFound(_status(404, msg, details=details))


def path_not_found() -> errors.NotFound:
    return errors.NotFound(_status(404, "the server could not find the requested resource"))


def already_exists(group: str, plural: str, name: str) -> errors.Conflict:
    details = StatusDetails(name=name, group=group or None, kind=plural)
    msg = f'{qualified_resource(group, plural)} "{name}" already exists'
    return errors.Conflict(_status(409, msg, reason="AlreadyExists", details=details))


def modified_conflict(group: str, plural: str, name: str, detail: str = "") -> errors.Conflict:
    details = StatusDetails(name=name, group=group or None, kind=plural)
    why = detail or (
        "the object has been modified; please apply your changes to the latest version and "
        "try again"
    )
    msg = f'Operation cannot be fulfilled on {qualified_resource(group, plural)} "{name}": {why}'
    return errors.Conflict(_status(409, msg, reason="Conflict", details=details))


def bad_request(message: str) -> errors.BadRequest:
    return errors.BadRequest(Status.failure(400, message))


def forbidden(group: str, plural: str, name: str, why: str) -> errors.Forbidden:
    details = StatusDetails(name=name or None, group=group or None, kind=plural)
    target = qualified_resource(group, plural)
    msg = f'{target} "{name}" is forbidden: {why}' if name else f"{target} is forbidden: {why}"
    return errors.Forbidden(_status(403, msg, details=details))


def method_not_allowed() -> errors.MethodNotAllowed:
    msg = "the server does not allow this method on the requested resource"
    return errors.MethodNotAllowed(_status(405, msg))


def not_acceptable(accepted: Sequence[str]) -> errors.PermanentAPIError:
    msg = f"only the following media types are accepted: {', '.join(accepted)}"
    return errors.PermanentAPIError(_status(406, msg, reason="NotAcceptable"))


def unsupported_media_type(accepted: Sequence[str]) -> errors.UnsupportedMediaType:
    msg = (
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted)
    )
    return errors.UnsupportedMediaType(_status(415, msg))


def too_large(limit: int) -> errors.RequestEntityTooLarge:
    return errors.RequestEntityTooLarge(_status(413, f"Request entity too large: limit is {limit}"))


def gone(message: str) -> errors.Gone:
    return errors.Gone(_status(410, message, reason="Expired"))


def internal_error(message: str) -> errors.InternalError:
    return errors.InternalError(
        _status(500, f"Internal error occurred: {message}", details=StatusDetails())
    )


def status_success(group: str, plural: str, name: str, uid: str) -> dict[str, Any]:
    """What DELETE answers for resources that do not return the deleted object."""
    details: dict[str, Any] = {"name": name, "kind": plural, "uid": uid}
    if group:
        details["group"] = group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field's failure, as ``k8s.io/apimachinery/pkg/util/validation/field.Error``."""

    kind: str  # "Required", "Invalid", "NotSupported", "Forbidden", "Duplicate", "TooLong", ...
    field: str  # "spec.containers[0].name"
    detail: str = ""
    value: Any = None
    supported: tuple[str, ...] = ()

    _REASONS = {  # noqa: RUF012 - a class constant, never mutated
        "Required": ("FieldValueRequired", "Required value"),
        "Invalid": ("FieldValueInvalid", "Invalid value"),
        "TypeInvalid": ("FieldValueTypeInvalid", "Invalid value"),
        "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
        "Forbidden": ("FieldValueForbidden", "Forbidden"),
        "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
        "TooLong": ("FieldValueTooLong", "Too long"),
        "TooMany": ("FieldValueTooMany", "Too many"),
        "NotFound": ("FieldValueNotFound", "Not found"),
    }

    @property
    def reason(self) -> str:
        return self._REASONS[self.kind][0]

    def body(self) -> str:
        """The part after ``field: `` (what a StatusCause's message holds)."""
        label = self._REASONS[self.kind][1]
        if self.kind in ("Required", "Forbidden", "TooLong", "TooMany"):
            return f"{label}: {self.detail}" if self.detail else label
        text = f"{label}: {_render_value(self.value)}"
        if self.kind == "NotSupported" and self.supported:
            text += ": supported values: " + ", ".join(f'"{s}"' for s in self.supported)
        elif self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()


def _render_value(value: Any) -> str:
    # field.Error renders strings with %q and other scalars with %v.
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def invalid(group: str, kind: str, name: str, causes: Iterable[FieldError]) -> errors.Invalid:
    """422 ``Kind "name" is invalid: ...`` with one StatusCause per field error."""
    found = list(causes)
    rendered = [str(c) for c in found]
    joined = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    details = StatusDetails(
        name=name,
        group=group or None,
        kind=kind,
        causes=[StatusCause(reason=c.reason, message=c.body(), field=c.field) for c in found],
    )
    msg = f'{qualified_kind(group, kind)} "{name}" is invalid: {joined}'
    return errors.Invalid(_status(422, msg, details=details))
