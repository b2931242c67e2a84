"""How one server version types an apply body and words its failures.

Owns :class:`TypingRules`, the per-version knobs of the typed conversion: the message texts
(``failed to create typed patch object`` prefix, the unknown-field and omitted-key texts), which
errors a server reports together (every one, or the first per list and per object, as
structured-merge-diff walks from v3 on), and how values print inside messages (the Go types of
each structured-merge-diff generation).

The texts come from the API surface's behaviours (``Behaviours.typed_patch_error``).
TEMPORARY ADAPTER: the walk, the value printing and the reset of status fields are not in the
surface data yet; :data:`_GENERATIONS` below holds them with their sources until
``apisurface/data/behaviours.yaml`` does (reported to the lead). It is the only place in this
package that compares versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kubespark.apisurface.model import ApiSurface
from kubespark.versions import Version, VersionRange

__all__ = ["TypingRules", "ValueStyle", "Walk", "rules_for"]


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
    prefix: str = "failed to create typed patch object ({namespace}/{name}; {gvk}): "
    unknown_field: str = "field not declared in schema"
    omitted_key: str = (
        "element {index}: associative list with keys has an element that omits key field "
        '"{key}" (and doesn\'t have default value)'
    )
    optional_keys: bool = False
    walk: Walk = Walk.STOP_AT_FIRST
    values: ValueStyle = ValueStyle.SMD_V44
    # Kubernetes 1.22+ (resetFields, kubernetes PR 100970): writes to the main resource neither
    # own nor conflict on .status.
    ignore_status: bool = True


@dataclass(frozen=True, slots=True)
class _Generation:
    versions: tuple[str, ...]
    walk: Walk
    values: ValueStyle
    ignore_status: bool
    source: str


# structured-merge-diff version per Kubernetes patch release: go.mod of kubernetes/apiserver at
# each tag (1.16.0 6149e45, 1.16.7 v1.0.2, 1.17.0 b1b620dd, 1.17.5 v2.0.1, 1.18.0 v3.0.0,
# 1.19.0 v4.0.1, 1.19.10 v4.0.3, 1.20.0 v4.0.2, 1.20.6 v4.0.3, 1.21.0 v4.1.0, 1.29.0 v4.4.1).
_GENERATIONS: tuple[_Generation, ...] = (
    _Generation(
        (">=1.16.0,<1.16.7", ">=1.17.0,<1.17.5"),
        Walk.COLLECT_ALL,
        ValueStyle.SMD_V1_INVALID_ATOM,
        False,
        "SMD 6149e45/v1.0.1, b1b620dd: typed/validate.go visitListItems `continue`; deduceAtom "
        "before commit 4f746db; kubeflow/spark-operator#2051 (1.17) lists every element",
    ),
    _Generation(
        (">=1.16.7,<1.17", ">=1.17.5,<1.18"),
        Walk.COLLECT_ALL,
        ValueStyle.SMD_V1,
        False,
        "SMD v1.0.2, v2.0.1: commit 4f746db (SMD PR 131) in, walk unchanged",
    ),
    _Generation(
        (">=1.18.0,<1.19.10", ">=1.20.0,<1.20.6"),
        Walk.STOP_AT_FIRST,
        ValueStyle.SMD_V3,
        False,
        "SMD v3.0.x, v4.0.1, v4.0.2: visitListItems `return`, visitMapItems `return false` "
        "(commits 4a1a177, 186edae); validateScalar `%T` of value.Value; "
        "kubeflow/spark-operator#2048 (1.18.6) shows one element and one field",
    ),
    _Generation(
        (">=1.19.10,<1.20", ">=1.20.6,<1.22"),
        Walk.STOP_AT_FIRST,
        ValueStyle.SMD_V4,
        False,
        "SMD v4.0.3, v4.1.0: validateScalar `%T` of v.Unstructured()",
    ),
    _Generation(
        (">=1.22.0,<1.29",),
        Walk.STOP_AT_FIRST,
        ValueStyle.SMD_V4,
        True,
        "resetFields (kubernetes PR 100970, NewDefaultFieldManager(..., resetFields) from "
        "kubernetes-1.22.0); SMD v4.1.2-v4.2.3",
    ),
    _Generation(
        (">=1.29.0",),
        Walk.STOP_AT_FIRST,
        ValueStyle.SMD_V44,
        True,
        "SMD v4.4.1+ (1.29+): validateScalar 'expected any scalar' for untyped scalars",
    ),
)


def server_version(surface: ApiSurface) -> Version:
    """The version a surface stands for; a minor alone counts as its .0 patch."""
    version = surface.server_version or surface.version
    return version.with_patch(0) if version.patch is None else version


def _generation(version: Version) -> _Generation:
    for generation in _GENERATIONS:
        if any(VersionRange.parse(r).contains(version) for r in generation.versions):
            return generation
    return _GENERATIONS[-1]


def rules_for(surface: ApiSurface) -> TypingRules:
    """The typing rules of the server a surface describes."""
    generation = _generation(server_version(surface))
    texts = surface.behaviours.typed_patch_error
    return TypingRules(
        prefix=texts.prefix,
        unknown_field=texts.unknown_field,
        omitted_key=texts.omitted_key,
        optional_keys=texts.optional_keys,
        walk=generation.walk,
        values=generation.values,
        ignore_status=generation.ignore_status,
    )
