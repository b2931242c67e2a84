"""The typing walk of an object, compiled once per atom of a schema index.

Owns :class:`Node`: what walking one atom needs (the declared fields' nodes, the element node of
a map or list, the list's keys, the Python types of the scalars it admits), resolved on first use
and kept on the :class:`~kubespark.patch.schema.SchemaIndex` (``SchemaIndex.derived``), so a hot
walk does one dict lookup per value instead of resolving references, deducing atoms and building
paths. Two walks use it:

- :func:`types_cleanly` -- True when a value types without a single error of
  :func:`kubespark.patch.typed.validate` in any mode; False means "ask the full validation",
  never "invalid". It gives up on anything that might be an error (a value of another kind, an
  undeclared field, an element without its keys, repeated keys, a type the index lacks), so a
  clean object never pays for the error-reporting walk;
- the ``fieldsV1`` of a value new to an object (:mod:`kubespark.patch.created`).

Pure; values are never modified.
"""

from __future__ import annotations

from typing import Any

from kubespark.patch.elements import KeyError_, element_path
from kubespark.patch.fieldpath import PathElement, pe_order
from kubespark.patch.schema import Atom, ListAtom, MapAtom, SchemaIndex, TypeRef
from kubespark.patch.values import JSON

__all__ = ["GiveUp", "Node", "node_for", "types_cleanly"]

# The Python types of decoded JSON scalars each scalar kind admits (bool is not numeric).
_SCALARS: dict[str | None, frozenset[type]] = {
    None: frozenset(),
    "string": frozenset({str}),
    "numeric": frozenset({int, float}),
    "boolean": frozenset({bool}),
    "untyped": frozenset({str, int, float, bool}),
}
_UNSET: Any = object()


class GiveUp(Exception):
    """The value needs the general walk (it may not type, or the fast walk cannot say)."""


class Node:
    """One atom, ready to walk: children resolved once, on first use."""

    __slots__ = (
        "_fields",
        "_list_element",
        "_map_element",
        "atomic",
        "index",
        "list",
        "map",
        "scalars",
    )

    def __init__(self, index: SchemaIndex, atom: Atom) -> None:
        self.index = index
        self.map: MapAtom | None = atom.map
        self.list: ListAtom | None = atom.list
        self.atomic = atom.map.atomic if atom.map is not None else False
        self.scalars = _SCALARS.get(atom.scalar, frozenset())
        self._fields: dict[str, Node | None] = {}
        self._map_element: Node | None = _UNSET
        self._list_element: Node | None = _UNSET

    def field(self, key: str) -> Node:
        """The node of ``key`` in a map; GiveUp for a field the schema does not declare."""
        node: Node | None = self._fields.get(key, _UNSET)
        if node is _UNSET:
            m = self.map
            assert m is not None
            ref = m.fields.get(key)
            if ref is None:
                return self.map_element()  # not cached per key: such keys are unbounded
            node = self._fields[key] = node_for(self.index, ref)
        if node is None:
            raise GiveUp
        return node

    def map_element(self) -> Node:
        """The node of a map's undeclared keys (GiveUp when it has none)."""
        node = self._map_element
        if node is _UNSET:
            assert self.map is not None
            node = self._map_element = node_for(self.index, self.map.element)
        if node is None:
            raise GiveUp
        return node

    def list_element(self) -> Node:
        """The node of a list's items."""
        node = self._list_element
        if node is _UNSET:
            assert self.list is not None
            node = self._list_element = node_for(self.index, self.list.element)
        if node is None:
            raise GiveUp
        return node


def node_for(index: SchemaIndex, ref: TypeRef) -> Node | None:
    """The node of ``ref``; None when it cannot type anything (no such type, an empty atom)."""
    atom = ref.inline
    if atom is None:
        name = ref.name
        if name is None or not index.has_type(name):
            return None
        atom = index.resolve(ref)
    if atom.is_empty:
        return None
    key = ("node", id(atom))
    hit = index.derived.get(key)
    if hit is None:
        # The entry keeps the atom alive, so its id names it for as long as the index lives.
        hit = index.derived[key] = (atom, Node(index, atom))
    node: Node = hit[1]  # type: ignore[index]
    return node


def keyed(node: Node, items: list[JSON], optional_keys: bool) -> list[PathElement]:
    """The path elements of a set's or list-map's items; GiveUp on one that has none or on
    repeated ones (the comparison and the validation treat those specially)."""
    la = node.list
    assert la is not None
    pes = []
    for child in items:
        try:
            pes.append(element_path(la, child, optional_keys))
        except KeyError_:
            raise GiveUp from None
    if len(set(pes)) != len(pes):
        raise GiveUp
    return pes


def check(node: Node, value: JSON, optional_keys: bool) -> None:
    """GiveUp unless ``value`` types as ``node`` (typed/validate.go's walk, finding nothing)."""
    kind = type(value)
    if kind is dict:
        if node.map is None:
            raise GiveUp
        for key, child in value.items():
            check(node.field(key), child, optional_keys)
    elif kind is list:
        la = node.list
        if la is None:
            raise GiveUp
        if la.associative:
            keyed(node, value, optional_keys)
        element = node.list_element()
        for child in value:
            check(element, child, optional_keys)
    elif value is not None and kind not in node.scalars:
        raise GiveUp


def added(node: Node, value: JSON, optional_keys: bool) -> dict[str, Any]:
    """The fieldsV1 node of a value an object did not have: every node below it a member."""
    kind = type(value)
    if kind is dict:
        if node.map is None:
            raise GiveUp
        if node.atomic or not value:
            for key, child in value.items():
                check(node.field(key), child, optional_keys)
            return {}
        out: dict[str, Any] = {".": {}}
        for key in sorted(value):
            out["f:" + key] = added(node.field(key), value[key], optional_keys)
        return out
    if kind is list:
        la = node.list
        if la is None:
            raise GiveUp
        element = node.list_element()
        if not la.associative or not value:
            for child in value:
                check(element, child, optional_keys)
            return {}
        pes = keyed(node, value, optional_keys)
        nodes = {
            pe: added(element, child, optional_keys) for pe, child in zip(pes, value, strict=True)
        }
        out = {".": {}}
        for pe in sorted(nodes, key=pe_order):
            out[pe.serialize()] = nodes[pe]
        return out
    if value is not None and kind not in node.scalars:
        raise GiveUp
    return {}


def types_cleanly(value: JSON, ref: TypeRef, index: SchemaIndex, optional_keys: bool) -> bool:
    """True when ``value`` types as ``ref`` with no error at all (see the module docstring)."""
    node = node_for(index, ref)
    if node is None:
        return False
    try:
        check(node, value, optional_keys)
    except GiveUp:
        return False
    return True
