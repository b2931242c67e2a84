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

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from kubespark.versions import Version

__all__ = [
    "ApiSurface",
    "Behaviours",
    "FieldValidation",
    "GroupVersionKind",
    "ListType",
    "Resource",
    "Schema",
    "SchemaKind",
    "TypeDef",
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
class Behaviours:
    """What one version does that its schemas do not show; each fact has a source in the data."""

    server_side_apply: bool
    # (TypeDef name, property) pairs whose list-map keys get a default before apply types the
    # body, e.g. ("io.k8s.api.core.v1.ServiceSpec", "ports") -> {"protocol": "TCP"} from 1.21.
    apply_key_defaults: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    field_validation: FieldValidation = FieldValidation.NONE
    default_field_validation: str = "Ignore"  # the mode when the client sends none
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApiSurface:
    """Everything one Kubernetes minor serves and accepts."""

    version: Version  # minor only: 1.19
    resources: tuple[Resource, ...]
    types: Mapping[str, TypeDef]
    behaviours: Behaviours
    # Lookup indexes, derived from ``resources`` once; not part of the value.
    _by_gvk: Mapping[GroupVersionKind, Resource] = field(init=False, repr=False, compare=False)
    _by_plural: Mapping[tuple[str, str, str], Resource] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_gvk", {r.gvk: r for r in self.resources})
        by_plural = {(r.gvk.group, r.gvk.version, r.plural): r for r in self.resources}
        object.__setattr__(self, "_by_plural", by_plural)

    def resource(self, api_version: str, kind: str) -> Resource | None:
        """The served resource for an object's apiVersion and kind, or None."""
        return self._by_gvk.get(GroupVersionKind.from_api_version(api_version, kind))

    def resource_for_plural(self, group: str, version: str, plural: str) -> Resource | None:
        """The served resource a REST path names (``/apis/apps/v1/.../deployments``)."""
        return self._by_plural.get((group, version, plural))

    def served_versions_of(self, group: str, kind: str) -> tuple[Resource, ...]:
        """Every served version of a kind in a group, as discovery orders them."""
        return tuple(r for r in self.resources if r.gvk.group == group and r.gvk.kind == kind)

    def type_of(self, resource: Resource) -> TypeDef:
        return self.types[resource.type_name]
