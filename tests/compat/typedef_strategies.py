"""Hypothesis strategies that build objects from an API surface's TypeDefs (bounded depth).

``objects_of(surface, type_name, depth)`` draws values that fit the type as that version's
schema describes it: every required property, any subset of the others, values of the declared
kind (enums from their values, list-maps with their keys, maps with a few string keys). Depth
bounds recursion (JSONSchemaProps, PodSpec inside templates): below it, only required
properties are drawn, and those as empty objects.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kubespark.apisurface import load_surface, newest_version
from kubespark.apisurface.model import ApiSurface, ListType, Schema, SchemaKind

# Element type -> list-map keys the API fills in when a create omits them (protocol: TCP).
_API_KEY_DEFAULTS = load_surface(newest_version()).behaviours.key_defaults_by_element

_WORDS = st.sampled_from(["a", "web", "spark", "x-1", "TCP", "value", ""])
_NAMES = st.sampled_from(["a", "b", "c", "app", "team"])
_SCALARS: dict[SchemaKind, st.SearchStrategy[Any]] = {
    SchemaKind.STRING: _WORDS,
    SchemaKind.INTEGER: st.integers(0, 70000),
    SchemaKind.NUMBER: st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False)),
    SchemaKind.BOOLEAN: st.booleans(),
    SchemaKind.INT_OR_STRING: st.one_of(st.integers(1, 65535), st.sampled_from(["http", "50%"])),
    SchemaKind.QUANTITY: st.sampled_from(["1", "500m", "2Gi", "0.5"]),
    SchemaKind.TIME: st.just("2024-01-02T03:04:05Z"),
    SchemaKind.ANY: st.one_of(
        st.none(), _WORDS, st.integers(0, 9), st.dictionaries(_NAMES, _WORDS, max_size=2)
    ),
}


def objects_of(
    surface: ApiSurface, type_name: str, depth: int = 4, keys: frozenset[str] = frozenset()
) -> st.SearchStrategy[Any]:
    """Objects of a named type of ``surface``; ``keys`` are drawn as if required."""
    typedef = surface.types.get(type_name)
    if typedef is None:
        return st.just({})
    needed = typedef.required | keys
    if depth <= 0:
        required = {
            p: st.just({}) if s.kind is SchemaKind.OBJECT else _value(surface, s, 0)
            for p, s in typedef.properties.items()
            if p in needed
        }
        return st.fixed_dictionaries(required)
    required = {}
    optional = {}
    for prop, schema in typedef.properties.items():
        if prop in ("apiVersion", "kind", "status"):
            continue  # set by the caller; status is the server's
        strategy = st.deferred(lambda s=schema: _value(surface, s, depth - 1))
        (required if prop in needed else optional)[prop] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def _value(surface: ApiSurface, schema: Schema, depth: int) -> st.SearchStrategy[Any]:
    if schema.kind is SchemaKind.OBJECT:
        return objects_of(surface, schema.ref, depth) if schema.ref else st.just({})
    if schema.kind is SchemaKind.ARRAY:
        return _list(surface, schema, depth)
    if schema.kind is SchemaKind.MAP:
        item = _value(surface, schema.items, depth) if schema.items else _WORDS
        return st.dictionaries(_NAMES, item, max_size=2)
    if schema.enum:
        return st.sampled_from(list(schema.enum))
    return _SCALARS[schema.kind]


def _list(surface: ApiSurface, schema: Schema, depth: int) -> st.SearchStrategy[Any]:
    if schema.items is None or depth < 0:
        return st.just([])
    item = _value(surface, schema.items, depth)
    list_type, keys = schema.apply_list()
    if list_type is ListType.MAP and keys and schema.items.ref:
        # A list-map's elements are told apart by their keys: each has them (a key the API
        # defaults, such as a port's protocol, may be left out), with distinct values.
        defaulted = _API_KEY_DEFAULTS.get(schema.items.ref, {})
        keyed = objects_of(
            surface, schema.items.ref, depth, frozenset(k for k in keys if k not in defaulted)
        ).filter(lambda e: isinstance(e, dict))
        return st.lists(keyed, max_size=2, unique_by=lambda e: tuple(repr(e.get(k)) for k in keys))
    if list_type is ListType.SET:
        return st.lists(item, max_size=2, unique_by=repr)
    return st.lists(item, max_size=2)


def kind_objects(
    surface: ApiSurface, api_version: str, kind: str, depth: int = 4
) -> st.SearchStrategy[dict[str, Any]]:
    """Whole objects of a served kind, with apiVersion, kind and a name."""
    resource = surface.resource(api_version, kind)
    assert resource is not None, f"{api_version} {kind} is not served by {surface.version}"

    def finish(body: dict[str, Any]) -> dict[str, Any]:
        meta = dict(body.get("metadata") or {})
        meta["name"] = "obj"
        meta.pop("generateName", None)
        meta.pop("namespace", None)
        meta.pop("ownerReferences", None)  # the planner orders by them; irrelevant here
        return {**body, "apiVersion": api_version, "kind": kind, "metadata": meta}

    return objects_of(surface, resource.type_name, depth).map(finish)
