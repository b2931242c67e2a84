"""Would server-side apply of a body fail on a version, and with which message.

Owns the planner's one question to "apply typing": ``predict_apply(surface, body)``. A server
types an apply body against its schema (structured-merge-diff) before doing anything else, and
answers HTTP 500 ``failed to create typed patch object`` when a field is not declared in the
schema or an element of an associative list (list-map) omits a key field that has no declared
default. This module checks exactly those two causes and renders the errors with the version's
own wording (``Behaviours.typed_patch_error``). It is the planner's stand-in for the patch
engine's full typed conversion (``kubespark.patch``); swapping that in changes only this module.

Pure; no I/O; the input is never modified. Each surface's types are compiled once, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.apisurface.model import (
    ApiSurface,
    GroupVersionKind,
    ListType,
    Schema,
    SchemaKind,
    TypeDef,
)

__all__ = ["ApplyPrediction", "TypingError", "predict_apply"]


@dataclass(frozen=True, slots=True)
class TypingError:
    """One error of the typed conversion: where, and the version's message for it.

    ``kind`` is ``"unknown-field"`` or ``"omitted-key"``; for an omitted key, ``key`` names it
    and ``element`` is the index of the list element that omits it.
    """

    path: str
    message: str
    kind: str
    key: str = ""
    element: int = -1

    def render(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ApplyPrediction:
    """What a server of the surface's version answers to a server-side apply of the body."""

    errors: tuple[TypingError, ...]
    status_message: str  # the Status message of the HTTP 500, "" when apply types cleanly
    http_status: int = 0  # 500 when it fails

    @property
    def fails(self) -> bool:
        return bool(self.errors)


# --- compiled types -----------------------------------------------------------------------------


class _Obj:
    __slots__ = ("keep_unknown", "name", "props")

    def __init__(self, name: str, keep_unknown: bool) -> None:
        self.name = name
        self.keep_unknown = keep_unknown
        self.props: dict[str, _Node | None] = {}  # None: a scalar or opaque value


class _List:
    __slots__ = ("defaults", "item", "keys", "list_type")

    def __init__(
        self,
        item: _Node | None,
        list_type: ListType,
        keys: tuple[str, ...],
        defaults: Mapping[str, str],
    ) -> None:
        self.item = item
        self.list_type = list_type
        self.keys = keys
        self.defaults = defaults


class _Map:
    __slots__ = ("item",)

    def __init__(self, item: _Node | None) -> None:
        self.item = item


_Node = _Obj | _List | _Map


class _Compiler:
    def __init__(self, surface: ApiSurface) -> None:
        self.types: Mapping[str, TypeDef] = surface.types
        self.defaults = surface.behaviours.apply_key_defaults
        self.objs: dict[str, _Obj] = {}

    def obj(self, name: str) -> _Obj | None:
        node = self.objs.get(name)
        if node is not None:
            return node
        typedef = self.types.get(name)
        if typedef is None:
            return None  # a dangling reference: nothing to type against
        node = self.objs[name] = _Obj(name, typedef.preserve_unknown_fields)
        for prop, schema in typedef.properties.items():
            node.props[prop] = self.schema(schema, name, prop)
        return node

    def schema(self, s: Schema, holder: str, prop: str) -> _Node | None:
        if s.kind is SchemaKind.OBJECT:
            return self.obj(s.ref) if s.ref else None
        if s.kind is SchemaKind.ARRAY:
            item = self.schema(s.items, holder, prop) if s.items else None
            list_type, keys = s.apply_list()
            defaults = self.defaults.get((holder, prop), {})
            if item is None and list_type is not ListType.MAP:
                return None  # a list of scalars: nothing to type beyond the values
            return _List(item, list_type, keys, defaults)
        if s.kind is SchemaKind.MAP:
            item = self.schema(s.items, holder, prop) if s.items else None
            return _Map(item) if item is not None else None
        return None


def _compiled(surface: ApiSurface) -> _Compiler:
    return surface.memo("compat.applyability", lambda: _Compiler(surface))


# --- walking ------------------------------------------------------------------------------------


def _key_text(value: Any) -> str:
    """A key value as structured-merge-diff prints it in a path element."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Walker:
    __slots__ = ("errors", "format", "optional_keys")

    def __init__(self, surface: ApiSurface) -> None:
        self.format = surface.behaviours.typed_patch_error
        self.optional_keys = self.format.optional_keys
        self.errors: list[TypingError] = []

    def obj(self, node: _Obj, value: Any, path: str) -> None:
        if type(value) is not dict or node.keep_unknown:
            return
        props = node.props
        for k, v in value.items():
            if k not in props:
                where = f"{path}.{k}"
                _, message = self.format.unknown_field_error(where)
                self.errors.append(TypingError(where, message, "unknown-field"))
                continue
            child = props[k]
            if child is not None and v is not None:
                self.walk(child, v, f"{path}.{k}")

    def walk(self, node: _Node, value: Any, path: str) -> None:
        cls = type(node)
        if cls is _Obj:
            self.obj(node, value, path)  # type: ignore[arg-type]
        elif cls is _List:
            self.list(node, value, path)  # type: ignore[arg-type]
        elif cls is _Map and type(value) is dict:
            item = node.item  # type: ignore[union-attr]
            for k, v in value.items():
                if v is not None and item is not None:
                    self.walk(item, v, f"{path}.{k}")

    def list(self, node: _List, value: Any, path: str) -> None:
        if type(value) is not list:
            return
        item = node.item
        for i, v in enumerate(value):
            if node.list_type is ListType.MAP:
                element = self.element_path(node, v, path, i)
                if element is None:
                    return  # the server stops typing this list at the first bad element
            elif node.list_type is ListType.SET:
                element = f"{path}[={_key_text(v)}]"
            else:
                element = f"{path}[{i}]"
            if item is not None and v is not None:
                self.walk(item, v, element)

    def element_path(self, node: _List, element: Any, path: str, index: int) -> str | None:
        if type(element) is not dict:
            return f"{path}[{index}]"
        parts = []
        missing = []
        for key in node.keys:
            if key in element and element[key] is not None:
                parts.append(f"{key}={_key_text(element[key])}")
            elif key in node.defaults:
                parts.append(f"{key}={_key_text(node.defaults[key])}")
            else:
                missing.append(key)
        if missing and (not self.optional_keys or len(missing) == len(node.keys)):
            _, message = self.format.omitted_key_error(path, index, missing[0], node.keys)
            self.errors.append(TypingError(path, message, "omitted-key", missing[0], index))
            return None
        return f"{path}[{','.join(parts)}]"


def predict_apply(
    surface: ApiSurface, body: Mapping[str, Any], *, namespace: str | None = None
) -> ApplyPrediction:
    """What a server of ``surface`` answers to a server-side apply of ``body``.

    ``namespace`` is the one the request path names, when the body has none.

    A kind the surface does not serve, or one without a schema, types cleanly here: the
    question for those is whether the kind is served at all, which the planner asks first.
    """
    resource = surface.resource(str(body.get("apiVersion", "")), str(body.get("kind", "")))
    if resource is None:
        return ApplyPrediction((), "")
    root = _compiled(surface).obj(resource.type_name)
    if root is None:
        return ApplyPrediction((), "")
    walker = _Walker(surface)
    walker.obj(root, body, "")
    if not walker.errors:
        return ApplyPrediction((), "")
    errors = tuple(sorted(walker.errors, key=lambda e: e.path))
    fmt = surface.behaviours.typed_patch_error
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    message = fmt.render(
        [(e.path, e.message) for e in errors],
        gvk=GroupVersionKind.from_api_version(resource.gvk.api_version, resource.gvk.kind),
        namespace=str(meta.get("namespace") or namespace or ""),
        name=str(meta.get("name") or ""),
    )
    return ApplyPrediction(errors, message, fmt.http_status)
