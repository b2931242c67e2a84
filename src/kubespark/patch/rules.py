"""How one server version types an apply body and words its failures.

Owns :class:`TypingRules`, the per-version knobs of the typed conversion: the message texts
(``failed to create typed patch object`` prefix, the unknown-field and omitted-key texts), which
errors a server reports together (every one, or the first per list and per object, as
structured-merge-diff walks from v3 on), and how values print inside messages (the Go types of
each structured-merge-diff generation).

Every one of them comes from the API surface's behaviours (``Behaviours.typed_patch_error``,
``apply_resets_status``, ``managed_fields_record_subresource``, ``apply_checks_object_type``),
where each fact has its source; this package compares no versions itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kubespark.apisurface.model import ApiSurface, TypedPatchErrorFormat

__all__ = ["TypingRules", "ValueStyle", "Walk", "rules_for"]


_NEWEST = TypedPatchErrorFormat()


class Walk(Enum):
    """Which typing errors one request reports."""

    # structured-merge-diff before v3 (Kubernetes 1.16, 1.17): every error in the body.
    COLLECT_ALL = "collect-all"
    # v3 on (1.18+): a list stops at its first element whose key cannot be built
    # (typed/validate.go visitListItems `return`), an object at its first undeclared field
    # (visitMapItems `return false`, SMD commit 186edae).
    STOP_AT_FIRST = "stop-at-first"


class ValueStyle(Enum):
    """How a value prints inside a type error, per structured-merge-diff generation."""

    # SMD before PR 131 (commit 4f746db): a value of the wrong kind, like an undeclared field,
    # fails as "schema error: invalid atom: inlined"; values print with value.Value.String().
    SMD_V1_INVALID_ATOM = "smd-v1-invalid-atom"
    SMD_V1 = "smd-v1"  # PR 131 in, values still print with value.Value.String()
    SMD_V3 = "smd-v3"  # *value.valueUnstructured; %T prints "*value.valueUnstructured"
    SMD_V4 = "smd-v4"  # %T of the Go value ("string", "bool", ...): SMD v4.0.3+
    SMD_V44 = "smd-v4.4"  # untyped scalars reject lists and maps: "expected any scalar"


@dataclass(frozen=True, slots=True)
class TypingRules:
    # The texts default to the API surface's (the newest wording); rules_for sets a version's.
    prefix: str = _NEWEST.prefix
    unknown_field: str = _NEWEST.unknown_field
    omitted_key: str = _NEWEST.omitted_key
    optional_keys: bool = _NEWEST.optional_keys
    walk: Walk = Walk.STOP_AT_FIRST
    values: ValueStyle = ValueStyle.SMD_V44
    # Kubernetes 1.21+: writes to the main resource neither own nor conflict on .status, nor
    # writes to the status subresource on .spec (resetFields, kubernetes commit a1fac8cb).
    ignore_status: bool = True
    # Kubernetes 1.22+: entries written through a subresource say so
    # (ManagedFieldsEntry.subresource, kubernetes commit 862d2561).
    subresource_entries: bool = True
    # Kubernetes 1.28+: an apply body of another group-version-kind is "invalid object type"
    # (versioncheck.go); before, only the version is checked ("Incorrect version specified").
    version_check: bool = True


def rules_for(surface: ApiSurface) -> TypingRules:
    """The typing rules of the server a surface describes."""
    texts = surface.behaviours.typed_patch_error
    return TypingRules(
        prefix=texts.prefix,
        unknown_field=texts.unknown_field,
        omitted_key=texts.omitted_key,
        optional_keys=texts.optional_keys,
        walk=Walk(texts.walk),
        values=ValueStyle(texts.value_style),
        ignore_status=surface.behaviours.apply_resets_status,
        subresource_entries=surface.behaviours.managed_fields_record_subresource,
        version_check=surface.behaviours.apply_checks_object_type,
    )
