"""Patch request options: the content types, the field manager, and their validation.

Owns what the API server decides before it touches an object: which patch content types a
resource accepts (built-in resources take strategic merge patch, custom resources do not), the
field manager a write is recorded under when the client names none (the User-Agent up to its
first ``/``: ``kubectl``, ``Go-http-client``, ``OpenAPI-Generator``, ``fabric8-kubernetes-client``),
and ``ValidatePatchOptions`` (apply needs a field manager; ``force`` is for apply only; a
manager is at most 128 printable characters).
"""

from __future__ import annotations

import unicodedata
from enum import Enum

from kubespark.patch.responses import FieldError
from kubespark.patch.values import go_quote

__all__ = [
    "FIELD_MANAGER_MAX_LENGTH",
    "PatchType",
    "accepted_patch_types",
    "manager_from_user_agent",
    "patch_type_of",
    "validate_patch_options",
]

FIELD_MANAGER_MAX_LENGTH = 128  # apimachinery validation.FieldManagerMaxLength


class PatchType(Enum):
    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"


def patch_type_of(content_type: str) -> str:
    """The media type without parameters (``; charset=utf-8``), as the handler compares it."""
    index = content_type.find(";")
    return content_type[:index] if index > 0 else content_type


def accepted_patch_types(*, custom_resource: bool, server_side_apply: bool = True) -> list[str]:
    """The types a resource accepts, in the order the 415 message lists them.

    Built-in resources (endpoints/installer.go): JSON, merge, strategic merge, apply. Custom
    resources (apiextensions customresource_handler.go): JSON, merge, apply -- strategic merge
    needs the Go struct tags custom resources do not have.
    """
    types = [PatchType.JSON.value, PatchType.MERGE.value]
    if not custom_resource:
        types.append(PatchType.STRATEGIC.value)
    if server_side_apply:
        types.append(PatchType.APPLY.value)
    return types


def _printable(ch: str) -> bool:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


def manager_from_user_agent(field_manager: str, user_agent: str) -> str:
    """``managerOrUserAgent``: the named manager, else the User-Agent before its first ``/``,
    unprintable characters dropped, cut at 128 bytes."""
    if field_manager:
        return field_manager
    out: list[str] = []
    size = 0
    for ch in user_agent.split("/")[0]:
        if not _printable(ch):
            continue
        width = len(ch.encode("utf-8"))
        if size + width > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(ch)
        size += width
    return "".join(out)


def validate_patch_options(
    patch_type: str, field_manager: str, force: bool | None
) -> list[FieldError]:
    """``ValidatePatchOptions``: the errors a 422 on ``PatchOptions.meta.k8s.io`` lists."""
    errors: list[FieldError] = []
    if patch_type == PatchType.APPLY.value:
        if not field_manager:
            # kubectl defaults it to "kubectl"; other clients must set it.
            errors.append(
                FieldError(
                    "FieldValueRequired",
                    "fieldManager",
                    "Required value: is required for apply patch",
                )
            )
    elif force is not None:
        errors.append(
            FieldError(
                "FieldValueForbidden",
                "force",
                "Forbidden: may not be specified for non-apply patch",
            )
        )
    errors.extend(validate_field_manager(field_manager))
    return errors


def validate_field_manager(field_manager: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(field_manager.encode("utf-8")) > FIELD_MANAGER_MAX_LENGTH:
        errors.append(
            FieldError(
                "FieldValueTooLong",
                "fieldManager",
                f"Too long: may not be more than {FIELD_MANAGER_MAX_LENGTH} bytes",
            )
        )
    position = 0
    for ch in field_manager:
        if not _printable(ch):
            body = (
                f"Invalid value: {go_quote(field_manager)}: invalid character "
                f"U+{ord(ch):04X} (at position {position})"
            )
            errors.append(FieldError("FieldValueInvalid", "fieldManager", body))
        position += len(ch.encode("utf-8"))
    return errors
