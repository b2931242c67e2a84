"""The shape of the API surface: what one Kubernetes minor serves and how its types are built.

This is the contract between the generated data (written by ``tools/gen_apisurface.py``), the
compat planner (client side) and the emulator (server side). It holds no data and does no I/O;
``kubespark.apisurface.load`` fills it. Instances are immutable and shared between callers, so
one loaded version can serve any number of emulated servers and planners.

The type model follows OpenAPI v2 as Kubernetes publishes it, reduced to what decides whether a
server accepts an object: property names and types, required fields, list types and list-map
keys (server-side apply), patch strategies and merge keys (strategic merge patch), enums.
Descriptions are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from kubespark.versions import Version

_T = TypeVar("_T")

__all__ = [
    "ApiSurface",
    "Behaviours",
    "FieldValidation",
    "FieldValidationFormat",
    "GroupVersionKind",
    "ListType",
    "Resource",
    "Schema",
    "SchemaKind",
    "SubResource",
    "TypeDef",
    "TypedPatchErrorFormat",
    "typing_failure_message",
    "typing_failure_of",
]


@dataclass(frozen=True, slots=True, order=True)
class GroupVersionKind:
    """A kind in one group-version; the core group is ``""``."""

    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        """As written in an object's ``apiVersion``: ``v1`` or ``apps/v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @classmethod
    def from_api_version(cls, api_version: str, kind: str) -> GroupVersionKind:
        group, _, version = api_version.rpartition("/")
        return cls(group, version, kind)

    def __str__(self) -> str:
        return f"{self.api_version}, Kind={self.kind}"


@dataclass(frozen=True, slots=True)
class SubResource:
    """A subresource as discovery lists it (``pods/status``, ``deployments/scale``).

    ``gvk`` is the kind discovery names for it: its body (``autoscaling/v1 Scale`` for
    ``scale``), or for connect subresources (``exec``, ``attach``, ``portforward``, ``proxy``)
    the options type they take (``v1 PodExecOptions``). None when discovery names no kind.
    """

    name: str
    gvk: GroupVersionKind | None
    verbs: frozenset[str]


@dataclass(frozen=True, slots=True)
class Resource:
    """A REST resource as discovery (``/api/v1``, ``/apis/G/V``) lists it."""

    gvk: GroupVersionKind
    plural: str
    singular: str
    namespaced: bool
    verbs: frozenset[str]
    subresources: tuple[str, ...] = ()  # "status", "scale", "log", "exec", "binding", ...
    short_names: tuple[str, ...] = ()
    type_name: str = ""  # the TypeDef that describes its body
    categories: tuple[str, ...] = ()  # "all" for the kinds `kubectl get all` shows
    subresource_details: tuple[SubResource, ...] = ()  # same order as ``subresources``

    @property
    def stability(self) -> str:
        """``alpha``, ``beta`` or ``ga``, from the version string (v1beta2 -> beta)."""
        v = self.gvk.version
        return "alpha" if "alpha" in v else "beta" if "beta" in v else "ga"

    @property
    def scope(self) -> str:
        """As the CRD API spells it: ``Namespaced`` or ``Cluster``."""
        return "Namespaced" if self.namespaced else "Cluster"


class SchemaKind(Enum):
    """What a value is on the wire."""

    OBJECT = "object"  # a named TypeDef (see Schema.ref)
    ARRAY = "array"
    MAP = "map"  # object with additionalProperties: string keys, values of Schema.items
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    INT_OR_STRING = "int-or-string"
    QUANTITY = "quantity"  # resource.Quantity: a string or a number
    TIME = "time"  # RFC 3339 string
    ANY = "any"  # preserve-unknown-fields / RawExtension / JSON: anything goes


class ListType(Enum):
    """``x-kubernetes-list-type``: how server-side apply merges a list."""

    ATOMIC = "atomic"
    SET = "set"
    MAP = "map"


@dataclass(frozen=True, slots=True)
class Schema:
    """The type of one value: a property, an array item, or a map value."""

    kind: SchemaKind
    ref: str | None = None  # TypeDef name when kind is OBJECT
    items: Schema | None = None  # element of ARRAY, value of MAP
    list_type: ListType | None = None
    list_map_keys: tuple[str, ...] = ()
    patch_strategy: str | None = None  # "merge", "retainKeys", "merge,retainKeys", "replace"
    patch_merge_key: str | None = None
    enum: tuple[str, ...] | None = None
    format: str | None = None  # "int32", "int64", "byte", "date-time", ...
    map_type: str | None = None  # x-kubernetes-map-type of a MAP: "atomic" or "granular"

    def apply_list(self) -> tuple[ListType, tuple[str, ...]]:
        """How server-side apply treats this list: (list type, keys).

        As kube-openapi's schemaconv converts a schema for structured-merge-diff: an explicit
        ``x-kubernetes-list-type`` wins; otherwise a strategic-merge list (``merge`` strategy)
        is a map keyed by its merge key, or a set without one; anything else is atomic. So
        ``containers`` is keyed by ``name`` even where 1.16's schema has no list type.
        """
        if self.list_type is not None:
            keys = self.list_map_keys if self.list_type is ListType.MAP else ()
            return (self.list_type, keys)
        if self.patch_strategy in ("merge", "merge,retainKeys"):
            if self.patch_merge_key:
                return (ListType.MAP, (self.patch_merge_key,))
            return (ListType.SET, ())
        return (ListType.ATOMIC, ())


@dataclass(frozen=True, slots=True)
class TypeDef:
    """A named object type (an OpenAPI definition such as ``io.k8s.api.core.v1.ServiceSpec``)."""

    name: str
    properties: Mapping[str, Schema]
    required: frozenset[str] = frozenset()
    gvks: tuple[GroupVersionKind, ...] = ()  # set on top-level kinds only
    preserve_unknown_fields: bool = False  # unknown properties are kept, not dropped
    map_type: str | None = None  # x-kubernetes-map-type: "atomic" or "granular"


class FieldValidation(Enum):
    """Server-side field validation (KEP-2885) as one version offers it."""

    NONE = "none"  # unknown fields on create/update are dropped silently; no query parameter
    IGNORE_WARN_STRICT = "ignore-warn-strict"  # ?fieldValidation=Ignore|Warn|Strict honoured


@dataclass(frozen=True, slots=True)
class TypedPatchErrorFormat:
    """How one version words the 500 it answers when it cannot type an apply body.

    A message is ``prefix`` + one error, or ``prefix`` + ``"errors:"`` + one indented line per
    error when there are several (structured-merge-diff's ``ValidationErrors.Error()``); an error
    is ``PATH: MESSAGE``. The parts changed at different versions; ``behaviours.yaml`` has them.
    """

    prefix: str = "failed to create typed patch object ({namespace}/{name}; {gvk}): "
    unknown_field: str = "field not declared in schema"
    omitted_key: str = (
        "element {index}: associative list with keys has an element that omits key field "
        '"{key}" (and doesn\'t have default value)'
    )
    # From structured-merge-diff v6.3 (Kubernetes 1.34) an element may omit some keys; only
    # omitting all of them fails, with ``omitted_key`` naming them as ``{keys}``.
    optional_keys: bool = False
    http_status: int = 500
    # "collect-all" (1.16, 1.17: every error in the body) or "stop-at-first" (1.18+: a list
    # stops at its first element whose key cannot be built, an object at its first
    # undeclared field).
    walk: str = "stop-at-first"
    # How values print inside type errors, by structured-merge-diff generation:
    # smd-v1-invalid-atom, smd-v1, smd-v3, smd-v4, smd-v4.4 (see behaviours.yaml).
    value_style: str = "smd-v4.4"

    def unknown_field_error(self, path: str) -> tuple[str, str]:
        """The error for a field the schema lacks, at a path such as ``.spec.ipFamilies``."""
        return (path, self.unknown_field)

    def omitted_key_error(
        self, path: str, index: int, key: str, keys: Sequence[str]
    ) -> tuple[str, str]:
        """The error for list element ``index`` at ``path`` missing ``key`` (no default).

        ``key`` is the first key the element omits. With ``optional_keys`` an element fails
        only when it omits all of ``keys`` (the caller decides that); the message names them.
        """
        quoted = "[" + " ".join(_go_quote(k) for k in keys) + "]"
        return (path, self.omitted_key.format(index=index, key=key, keys=quoted))

    def render(
        self,
        errors: Sequence[tuple[str, str]],
        *,
        gvk: GroupVersionKind,
        namespace: str = "",
        name: str = "",
    ) -> str:
        """The Status message, message for message as that version's server writes it.

        ``namespace`` and ``name`` are what the apply body's own metadata says (the server
        formats the decoded patch object, not the URL): spark-submit's driver Service body has
        no namespace, so 1.23+ servers write ``(/NAME; /v1, Kind=Service)``.
        """
        lines = [f"{path}: {message}" for path, message in errors]
        return typing_failure_message(self.prefix, lines, gvk=gvk, namespace=namespace, name=name)


def typing_failure_message(
    prefix: str,
    lines: Sequence[str],
    *,
    gvk: GroupVersionKind,
    namespace: str = "",
    name: str = "",
) -> str:
    """A typing failure as the server words it: ``prefix`` naming the object, then the errors.

    One error follows the prefix directly; several follow ``errors:``, one indented line each
    (structured-merge-diff's ``ValidationErrors.Error()``). ``prefix`` is a version's
    ``typed_patch_error.prefix`` from ``behaviours.yaml`` (or the live-object variant) with
    ``{namespace}``, ``{name}`` and ``{gvk}`` placeholders. The one renderer of these messages:
    the patch engine, the planner and the emulator all answer through it.
    """
    go_gvk = f"{gvk.group}/{gvk.version}, Kind={gvk.kind}"  # Go's GroupVersionKind.String()
    head = prefix.format(namespace=namespace, name=name, gvk=go_gvk)
    if len(lines) == 1:
        return head + lines[0]
    return head + "\n  ".join(["errors:", *lines])


def typing_failure_of(prefix: str, lines: Sequence[str], body: Mapping[str, Any]) -> str:
    """:func:`typing_failure_message` naming the object as ``body`` itself does.

    The server formats the decoded object, not the URL: spark-submit's driver Service body has
    no namespace, so 1.23+ servers write ``(/NAME; /v1, Kind=Service)``.
    """
    meta = body.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    gvk = GroupVersionKind.from_api_version(
        str(body.get("apiVersion") or ""), str(body.get("kind") or "")
    )
    return typing_failure_message(
        prefix,
        lines,
        gvk=gvk,
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
    )


@dataclass(frozen=True, slots=True)
class FieldValidationFormat:
    """How a version with server-side field validation words unknown fields on create/update."""

    strict_error: str = (
        '{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: '
        "{errors}"
    )
    strict_item: str = 'unknown field "{path}"'
    warning: str = 'unknown field "{path}"'
    http_status: int = 400  # Strict fails the request as BadRequest

    def strict_message(self, kind: str, version: str, paths: Sequence[str]) -> str:
        """The Status message of a Strict failure; ``paths`` like ``.spec.foo`` or ``spec.foo``."""
        items = ", ".join(self.strict_item.format(path=p.lstrip(".")) for p in paths)
        return self.strict_error.format(kind=kind, version=version, errors=items)

    def warnings(self, paths: Sequence[str]) -> tuple[str, ...]:
        """One warning text per dropped field (sent as ``Warning: 299 - "<text>"``)."""
        return tuple(self.warning.format(path=p.lstrip(".")) for p in paths)


def _go_quote(text: str) -> str:
    """Go's ``%q`` for the plain ASCII names keys have."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class Behaviours:
    """What one version does that its schemas do not show; each fact has a source in the data."""

    server_side_apply: bool
    # (TypeDef name, property) pairs whose list-map keys get a default before apply types the
    # body, e.g. ("io.k8s.api.core.v1.ServiceSpec", "ports") -> {"protocol": "TCP"} from 1.21.
    apply_key_defaults: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    field_validation: FieldValidation = FieldValidation.NONE
    default_field_validation: str = "Ignore"  # the mode when the client sends none
    sources: tuple[str, ...] = ()
    server_side_apply_stage: str = ""  # "beta" or "ga"
    # The same defaults keyed by the list's element type: "io.k8s.api.core.v1.ServicePort" ->
    # {"protocol": "TCP"}; what the data file states, from which apply_key_defaults is derived.
    key_defaults_by_element: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    typed_patch_error: TypedPatchErrorFormat = field(default_factory=TypedPatchErrorFormat)
    # None where the version has no server-side field validation (unknown fields just drop).
    field_validation_format: FieldValidationFormat | None = None
    # Apply to the main resource leaves .status alone (resetFields, 1.21+).
    apply_resets_status: bool = True
    # managedFields entries written through a subresource name it (1.22+).
    managed_fields_record_subresource: bool = True
    # An apply body of another group-version-kind is refused as "invalid object type" (1.28+).
    apply_checks_object_type: bool = True
    # CRDs' x-kubernetes-validations (CEL) are evaluated on custom resource writes (1.25+).
    crd_validation_rules: bool = True


@dataclass(frozen=True, slots=True)
class ApiSurface:
    """Everything one Kubernetes minor serves and accepts."""

    version: Version  # minor only: 1.19
    resources: tuple[Resource, ...]
    types: Mapping[str, TypeDef]
    behaviours: Behaviours
    # The server version asked for, patch included when known (1.20.6): the behaviours reflect
    # it, the types do not (they are the minor's). None means "the minor as a whole".
    server_version: Version | None = None
    # Resources this version can serve but a default server does not (alpha APIs, betas new
    # since 1.24, the APIs 1.16 switched off): served only once enabled with --runtime-config.
    optional_resources: tuple[Resource, ...] = ()
    # Lookup indexes, derived from ``resources`` once; not part of the value.
    _by_gvk: Mapping[GroupVersionKind, Resource] = field(init=False, repr=False, compare=False)
    _by_plural: Mapping[tuple[str, str, str], Resource] = field(
        init=False, repr=False, compare=False
    )
    # Derived data computed on first use and kept with the surface (compiled object checkers):
    # deterministic functions of the fields above, so sharing the surface stays safe.
    _memo: dict[str, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "_by_gvk", {r.gvk: r for r in self.resources})
        by_plural = {(r.gvk.group, r.gvk.version, r.plural): r for r in self.resources}
        object.__setattr__(self, "_by_plural", by_plural)

    def resource(self, api_version: str, kind: str) -> Resource | None:
        """The served resource for an object's apiVersion and kind, or None."""
        return self._by_gvk.get(GroupVersionKind.from_api_version(api_version, kind))

    def optional_resource(self, api_version: str, kind: str) -> Resource | None:
        """A resource this version serves only when enabled (``--runtime-config``), or None."""
        gvk = GroupVersionKind.from_api_version(api_version, kind)
        return next((r for r in self.optional_resources if r.gvk == gvk), None)

    def resource_for_plural(self, group: str, version: str, plural: str) -> Resource | None:
        """The served resource a REST path names (``/apis/apps/v1/.../deployments``)."""
        return self._by_plural.get((group, version, plural))

    def served_versions_of(self, group: str, kind: str) -> tuple[Resource, ...]:
        """Every served version of a kind in a group, as discovery orders them."""
        return tuple(r for r in self.resources if r.gvk.group == group and r.gvk.kind == kind)

    def type_of(self, resource: Resource) -> TypeDef:
        return self.types[resource.type_name]

    def memo(self, key: str, build: Callable[[], _T]) -> _T:
        """Derived data for this surface, built once (``build`` must be deterministic)."""
        try:
            return self._memo[key]  # type: ignore[return-value]
        except KeyError:
            value = self._memo[key] = build()
            return value
