"""Would server-side apply of a body fail on a version, and with which message.

Owns the planner's one question to apply typing: ``predict_apply(surface, body)``. A server
types an apply body against its schema (structured-merge-diff) before anything else and answers
HTTP 500 ``failed to create typed patch object`` when it cannot: a field the schema does not
declare, a list-map element that omits a key field without a declared default, and the like.
The typing itself is the patch engine's (``kubespark.patch.apply_typing_errors`` for every cause,
``typed_patch_failure`` for the exact message that version's server prints); this module only
adapts it to the planner: kinds the version does not serve are the planner's own question
(asked first), and the namespace of the request path is the one the message names.

Most objects type cleanly, and the full typing costs several times a schema check, so a
conservative first pass (:func:`surely_typed`, compiled per surface) answers "clean" for bodies
whose every value matches the schema exactly (known fields, values of the declared kind, list-map
elements with all their keys, no duplicates); anything else goes to the patch engine, which has
the last word. The tests hold the first pass to never answering "clean" where the engine finds
an error.

Pure; no I/O; the input is never modified.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubespark.apisurface.model import ApiSurface, ListType, Schema, SchemaKind, TypeDef
from kubespark.patch import TypingError, TypingErrorKind, typed_patch_failure
from kubespark.patch import apply_typing_errors as typing_errors

__all__ = [
    "ApplyPrediction",
    "TypingError",
    "TypingErrorKind",
    "predict_apply",
    "surely_typed",
]


@dataclass(frozen=True, slots=True)
class ApplyPrediction:
    """What a server of the surface's version answers to a server-side apply of the body.

    ``errors`` are every cause (the server prints only some: from 1.18 the first per list and
    object); ``status_message`` is the message of the HTTP 500 as that server words it.
    """

    errors: tuple[TypingError, ...]
    status_message: str  # "" when apply types cleanly
    http_status: int = 0  # 500 when it fails

    @property
    def fails(self) -> bool:
        return bool(self.errors)

    @property
    def only_omitted_keys(self) -> bool:
        return self.fails and all(e.kind is TypingErrorKind.OMITTED_KEY for e in self.errors)

    def causes(self) -> str:
        """Every cause once, one after the other: ``.spec.ipFamilies: field not declared ...``.

        One cause repeated per list element (the driver Service's three ports, each without
        ``protocol``) is said once with the elements grouped: ``.spec.ports: elements 0, 1, 2:
        associative list ...``.
        """
        grouped: dict[tuple[str, str], list[str]] = {}
        for error in self.errors:
            match = _ELEMENT.match(error.message)
            index, cause = (match.group(1), match.group(2)) if match else ("", error.message)
            grouped.setdefault((error.path, cause), []).append(index)
        return "; ".join(_cause(path, cause, indexes) for (path, cause), indexes in grouped.items())


_CLEAN = ApplyPrediction((), "")
_ELEMENT = re.compile(r"^element (\d+): (.*)$", re.S)


def _cause(path: str, cause: str, indexes: list[str]) -> str:
    numbered = [i for i in indexes if i]
    if numbered:
        label = "element" if len(numbered) == 1 else "elements"
        cause = f"{label} {', '.join(numbered)}: {cause}"
    return f"{path}: {cause}" if path else cause


def predict_apply(
    surface: ApiSurface, body: Mapping[str, Any], *, namespace: str | None = None
) -> ApplyPrediction:
    """What a server of ``surface`` answers to a server-side apply of ``body``.

    ``namespace`` is the one the request path names, when the body has none. A kind the
    version does not serve types cleanly here: whether it is served at all is asked first.
    """
    resource = surface.resource(str(body.get("apiVersion", "")), str(body.get("kind", "")))
    if resource is None or surely_typed(surface, resource.type_name, body):
        return _CLEAN
    errors = typing_errors(surface, body, type_name=resource.type_name)
    if not errors:
        return _CLEAN
    named = body
    meta = body.get("metadata")
    if namespace and isinstance(meta, dict) and not meta.get("namespace"):
        named = {**body, "metadata": {**meta, "namespace": namespace}}
    message = typed_patch_failure(surface, named, type_name=resource.type_name) or ""
    return ApplyPrediction(tuple(errors), message, surface.behaviours.typed_patch_error.http_status)


# --- the conservative first pass ----------------------------------------------------------------

_SCALARS: Mapping[SchemaKind, frozenset[type]] = {
    SchemaKind.STRING: frozenset({str}),
    SchemaKind.INTEGER: frozenset({int, float}),
    SchemaKind.NUMBER: frozenset({int, float}),
    SchemaKind.BOOLEAN: frozenset({bool}),
    SchemaKind.INT_OR_STRING: frozenset({int, str}),
    SchemaKind.QUANTITY: frozenset({int, float, str}),
    SchemaKind.TIME: frozenset({str}),
}


# The compiled first pass's nodes: plain slotted records compared by identity.
@dataclass(slots=True, eq=False)
class _Obj:
    keep_unknown: bool
    props: dict[str, _Node] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _List:
    item: _Node
    list_type: ListType
    keys: tuple[str, ...]
    defaults: Mapping[str, str]


@dataclass(slots=True, eq=False)
class _Map:
    item: _Node


_ANY = object()  # anything goes (preserve-unknown-fields, RawExtension)
_Node = _Obj | _List | _Map | frozenset[type] | object


class _Compiler:
    def __init__(self, surface: ApiSurface) -> None:
        self.types: Mapping[str, TypeDef] = surface.types
        self.defaults = surface.behaviours.apply_key_defaults
        self.objs: dict[str, _Obj] = {}

    def obj(self, name: str) -> _Node:
        node = self.objs.get(name)
        if node is not None:
            return node
        typedef = self.types.get(name)
        if typedef is None:
            return _ANY
        node = self.objs[name] = _Obj(typedef.preserve_unknown_fields)
        for prop, schema in typedef.properties.items():
            node.props[prop] = self.schema(schema, name, prop)
        return node

    def schema(self, s: Schema, holder: str, prop: str) -> _Node:
        if s.kind is SchemaKind.OBJECT:
            return self.obj(s.ref) if s.ref else _ANY
        if s.kind is SchemaKind.ARRAY:
            item = self.schema(s.items, holder, prop) if s.items else _ANY
            list_type, keys = s.apply_list()
            return _List(item, list_type, keys, self.defaults.get((holder, prop), {}))
        if s.kind is SchemaKind.MAP:
            return _Map(self.schema(s.items, holder, prop) if s.items else _ANY)
        return _SCALARS.get(s.kind, _ANY)


def _fits(node: _Node, value: Any) -> bool:
    """Whether ``value`` matches ``node`` exactly; False is "not sure", never "fails"."""
    cls = node.__class__
    if cls is frozenset:
        return value.__class__ in node  # type: ignore[operator]
    if cls is _Obj:
        if value.__class__ is not dict:
            return False
        if node.keep_unknown:  # type: ignore[union-attr]
            return True
        props = node.props  # type: ignore[union-attr]
        for k, v in value.items():
            child = props.get(k, None)
            if child is None:
                return False
            if v is not None and child is not _ANY and not _fits(child, v):
                return False
        return True
    if cls is _List:
        return value.__class__ is list and _list_fits(node, value)  # type: ignore[arg-type]
    if cls is _Map:
        if value.__class__ is not dict:
            return False
        item = node.item  # type: ignore[union-attr]
        return item is _ANY or all(v is None or _fits(item, v) for v in value.values())
    return True  # _ANY


def _list_fits(node: _List, value: list[Any]) -> bool:
    item = node.item
    if node.list_type is ListType.ATOMIC:
        return item is _ANY or all(v is not None and _fits(item, v) for v in value)
    seen: set[Any] = set()
    keys, defaults = node.keys, node.defaults
    for v in value:
        if v is None or (item is not _ANY and not _fits(item, v)):
            return False
        if node.list_type is ListType.MAP:
            if v.__class__ is not dict:
                return False
            key = tuple(v[k] if v.get(k) is not None else defaults.get(k) for k in keys)
            if None in key:
                return False
        else:
            key = v
        try:
            if key in seen:
                return False
            seen.add(key)
        except TypeError:  # an unhashable set element: let the engine judge
            return False
    return True


def surely_typed(surface: ApiSurface, type_name: str, body: Mapping[str, Any]) -> bool:
    """True when server-side apply certainly types ``body`` as ``type_name`` on this version."""
    compiler = surface.memo("compat.surely-typed", lambda: _Compiler(surface))
    return _fits(compiler.obj(type_name), body)
