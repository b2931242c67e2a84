"""Reading OpenAPI v2 definitions (as a live server serves ``/openapi/v2``) into TypeDefs.

Owns the mapping from OpenAPI to the surface's type model: which named definitions are scalars
on the wire (IntOrString, Quantity, Time) or opaque (RawExtension, FieldsV1, JSON), list and map
markers, and custom resources' inline schemas (nested objects become synthetic types named
``<owner>.<property>``). ``tools/gen_apisurface.py`` uses the same name tables. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from kubespark.apisurface.model import GroupVersionKind, ListType, Schema, SchemaKind, TypeDef

__all__ = ["OPAQUE_TYPES", "SCALAR_TYPES", "is_opaque", "types_from_openapi_v2"]

# Definitions whose wire form is not an object with properties, by name: JSON schemas spell
# IntOrString and Quantity alike (string or number), so the names decide.
SCALAR_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
        "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "time",
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "time",
    }
)
# Opaque values, anything goes: runtime.RawExtension, managed fields, patches, CRD JSON-schema
# parts. A leading dot matches the name's last segments (both apiextensions versions).
OPAQUE_TYPES: tuple[str, ...] = (
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    ".JSON",
    ".JSONSchemaPropsOrArray",
    ".JSONSchemaPropsOrBool",
    ".JSONSchemaPropsOrStringArray",
)


def is_opaque(name: str) -> bool:
    return any(name == o or (o.startswith(".") and name.endswith(o)) for o in OPAQUE_TYPES)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _non_null(value: Any) -> Any:
    if isinstance(value, list):
        rest = [v for v in value if v != "null"]
        return rest[0] if len(rest) == 1 else None
    return value


class _Reader:
    def __init__(self) -> None:
        self.out: dict[str, TypeDef] = {}

    def definition(self, name: str, d: Mapping[str, Any]) -> None:
        if name in SCALAR_TYPES or is_opaque(name) or name in self.out:
            return
        gvks = tuple(
            GroupVersionKind(str(g.get("group", "")), str(g["version"]), str(g["kind"]))
            for g in d.get("x-kubernetes-group-version-kind", ())
            if isinstance(g, dict)
        )
        self.typedef(name, d, gvks)

    def typedef(self, name: str, d: Mapping[str, Any], gvks: tuple[GroupVersionKind, ...]) -> None:
        # Registered before its properties are read: schemas may nest deeply.
        props: dict[str, Schema] = {}
        self.out[name] = TypeDef(
            name=name,
            properties=MappingProxyType(props),
            required=frozenset(str(r) for r in d.get("required", ())),
            gvks=gvks,
            preserve_unknown_fields=bool(d.get("x-kubernetes-preserve-unknown-fields")),
            map_type=d.get("x-kubernetes-map-type"),
        )
        for prop, s in (d.get("properties") or {}).items():
            if isinstance(s, dict):
                props[str(prop)] = self.schema(s, f"{name}.{prop}")

    def schema(self, s: Mapping[str, Any], inline_name: str) -> Schema:
        all_of = s.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            s = {**{k: v for k, v in s.items() if k != "allOf"}, **all_of[0]}
        extras = _extras(s)
        if "$ref" in s:
            name = _ref_name(str(s["$ref"]))
            if name in SCALAR_TYPES:
                return Schema(SchemaKind(SCALAR_TYPES[name]), **extras)
            if is_opaque(name):
                return Schema(SchemaKind.ANY, **extras)
            return Schema(SchemaKind.OBJECT, ref=name, **extras)
        if s.get("x-kubernetes-int-or-string"):
            return Schema(SchemaKind.INT_OR_STRING, **extras)
        typ = _non_null(s.get("type"))
        if typ == "array":
            items = s.get("items")
            item = self.schema(items, inline_name + "[]") if isinstance(items, dict) else None
            return Schema(SchemaKind.ARRAY, items=item or Schema(SchemaKind.ANY), **extras)
        if typ == "object" or (typ is None and ("properties" in s or "additionalProperties" in s)):
            if s.get("properties"):
                self.typedef(inline_name, s, ())
                return Schema(SchemaKind.OBJECT, ref=inline_name, **extras)
            add = s.get("additionalProperties")
            if isinstance(add, dict) and add:
                item = self.schema(add, inline_name + "{}")
                return Schema(SchemaKind.MAP, items=item, **extras)
            return Schema(SchemaKind.ANY, **extras)
        if typ in ("string", "integer", "number", "boolean"):
            fmt = s.get("format")
            return Schema(SchemaKind(typ), format=str(fmt) if fmt else None, **extras)
        return Schema(SchemaKind.ANY, **extras)


def _extras(s: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.get("x-kubernetes-list-type") in ("atomic", "set", "map"):
        out["list_type"] = ListType(s["x-kubernetes-list-type"])
    if isinstance(s.get("x-kubernetes-list-map-keys"), list):
        out["list_map_keys"] = tuple(str(k) for k in s["x-kubernetes-list-map-keys"])
    if s.get("x-kubernetes-patch-strategy"):
        out["patch_strategy"] = str(s["x-kubernetes-patch-strategy"])
    if s.get("x-kubernetes-patch-merge-key"):
        out["patch_merge_key"] = str(s["x-kubernetes-patch-merge-key"])
    if s.get("x-kubernetes-map-type"):
        out["map_type"] = str(s["x-kubernetes-map-type"])
    enum = s.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(e, str) for e in enum):
        out["enum"] = tuple(enum)
    return out


def types_from_openapi_v2(doc: Mapping[str, Any]) -> dict[str, TypeDef]:
    """Every definition of an OpenAPI v2 document (``/openapi/v2``) as TypeDefs, by name."""
    reader = _Reader()
    definitions = doc.get("definitions") or doc.get("$defs") or {}
    for name, d in definitions.items():
        if isinstance(d, dict):
            reader.definition(str(name), d)
    return reader.out
