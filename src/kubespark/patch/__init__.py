"""Kubernetes patch semantics, typed by the API surface.

Owns what a server does with a patch body: JSON patch (RFC 6902), merge patch (RFC 7386),
strategic merge patch (patch strategies and merge keys from the API surface), and server-side
apply (typed conversion of the apply body with the version's own failure messages, managed
fields, field managers, conflicts, force). Pure functions over plain objects: the emulator uses
them to answer, the compat planner to predict, the proxy to answer as apply would have. No I/O.

The entry points are in :mod:`kubespark.patch.api`; the formats stand alone
(:mod:`~kubespark.patch.json_patch`, :mod:`~kubespark.patch.merge_patch`,
:mod:`~kubespark.patch.strategic`) for callers that need one without a server around it.
"""

from kubespark.patch.api import (
    DEDUCED_TYPE,
    PatchResult,
    PatchTarget,
    Prepare,
    apply_patch,
    apply_typing_errors,
    record_update,
    typed_patch_failure,
)
from kubespark.patch.options import (
    PatchType,
    accepted_patch_types,
    manager_from_user_agent,
)
from kubespark.patch.typed import TypingError, TypingErrorKind

__all__ = [
    "DEDUCED_TYPE",
    "PatchResult",
    "PatchTarget",
    "PatchType",
    "Prepare",
    "TypingError",
    "TypingErrorKind",
    "accepted_patch_types",
    "apply_patch",
    "apply_typing_errors",
    "manager_from_user_agent",
    "record_update",
    "typed_patch_failure",
]
