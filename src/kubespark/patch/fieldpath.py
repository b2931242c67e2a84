"""Field paths and field sets as server-side apply tracks ownership, and their FieldsV1 form.

Owns structured-merge-diff's ``fieldpath`` model: a :class:`PathElement` is a struct field
(``.spec``), a list-map key (``[name="nginx"]``), a set value (``[=value]``) or an atomic-list
index (``[0]``); a :class:`FieldSet` is a trie of paths whose "members" are the owned nodes.
It writes and reads ``metadata.managedFields[].fieldsV1`` (``{"f:spec": {"f:ports":
{"k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}": {".": {}, ...}}}}``) and prints paths the way
conflict messages show them (``.spec.containers[name="nginx"].image``).

Pure data structures: no schema knowledge (see :mod:`kubespark.patch.typed`) and no I/O.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from kubespark.patch.values import (
    JSON,
    compare_values,
    hashable,
    json_compact,
    smd_to_string,
)

__all__ = ["FieldSet", "FieldsV1Error", "Path", "PathElement"]


class FieldsV1Error(ValueError):
    """A ``fieldsV1`` document that is not a valid field set."""


class PathElement:
    """One step of a path. Compare with ``==``; order with :meth:`compare` (SMD's order)."""

    __slots__ = ("_hash", "_id", "_text", "index", "key", "kind", "name", "value")

    kind: str  # "f" field, "k" key, "v" value, "i" index
    name: str
    key: tuple[tuple[str, JSON], ...]
    value: JSON
    index: int
    _id: tuple[object, ...]
    _hash: int
    _text: str | None

    def __init__(
        self,
        kind: str,
        *,
        name: str = "",
        key: tuple[tuple[str, JSON], ...] = (),
        value: JSON = None,
        index: int = 0,
    ) -> None:
        self.kind = kind
        self.name = name
        self.key = key
        self.value = value
        self.index = index
        if kind == "f":
            self._id = ("f", name)
        elif kind == "k":
            self._id = ("k", tuple((n, hashable(v)) for n, v in key))
        elif kind == "v":
            self._id = ("v", hashable(value))
        else:
            self._id = ("i", index)
        self._hash = hash(self._id)
        self._text = None

    @classmethod
    def field(cls, name: str) -> PathElement:
        return _field_element(name)

    @classmethod
    def of_key(cls, fields: Mapping[str, JSON]) -> PathElement:
        return cls("k", key=tuple(sorted(fields.items(), key=lambda kv: kv[0])))

    @classmethod
    def of_value(cls, value: JSON) -> PathElement:
        return cls("v", value=value)

    @classmethod
    def of_index(cls, index: int) -> PathElement:
        return cls("i", index=index)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PathElement) and self._id == other._id

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"PathElement({self})"

    def __str__(self) -> str:
        """As ``PathElement.String()`` prints it in error and conflict messages."""
        if self.kind == "f":
            return "." + self.name
        if self.kind == "k":
            return "[" + ",".join(f"{n}={smd_to_string(v)}" for n, v in self.key) + "]"
        if self.kind == "v":
            return f"[={smd_to_string(self.value)}]"
        return f"[{self.index}]"

    def serialize(self) -> str:
        """The ``fieldsV1`` key: ``f:name``, ``k:{json}``, ``v:json``, ``i:N``."""
        if self._text is None:
            self._text = self._serialize()
        return self._text

    def _serialize(self) -> str:
        if self.kind == "f":
            return "f:" + self.name
        if self.kind == "k":
            body = ",".join(f"{json.dumps(n)}:{json_compact(v)}" for n, v in self.key)
            return "k:{" + body + "}"
        if self.kind == "v":
            return "v:" + json_compact(self.value)
        return f"i:{self.index}"

    @classmethod
    def deserialize(cls, text: str) -> PathElement | None:
        """The element a ``fieldsV1`` key names; None for a kind a later version may add."""
        if len(text) < 2 or text[1] != ":":
            raise FieldsV1Error(f"missing colon: {text}")
        kind, body = text[0], text[2:]
        try:
            if kind == "f":
                return cls.field(body)
            if kind == "v":
                return cls.of_value(json.loads(body))
            if kind == "k":
                fields = json.loads(body)
                if not isinstance(fields, dict):
                    raise FieldsV1Error(f"key must be an object: {text}")
                return cls.of_key(fields)
            if kind == "i":
                return cls.of_index(int(body))
        except ValueError as exc:
            raise FieldsV1Error(f"parsing key as path element: {exc}") from exc
        return None  # SMD ignores element kinds it does not know

    def compare(self, other: PathElement) -> int:
        """SMD's order: fields < keys < values < indexes, then by content."""
        order = "fkvi"
        a, b = order.index(self.kind), order.index(other.kind)
        if a != b:
            return (a > b) - (a < b)
        if self.kind == "f":
            return (self.name > other.name) - (self.name < other.name)
        if self.kind == "k":
            return _compare_keys(self.key, other.key)
        if self.kind == "v":
            return compare_values(self.value, other.value)
        return (self.index > other.index) - (self.index < other.index)


@functools.lru_cache(maxsize=65536)
def _field_element(name: str) -> PathElement:
    # Field elements are immutable and few (property names): one instance each saves work.
    return PathElement("f", name=name)


def _compare_keys(lhs: Sequence[tuple[str, JSON]], rhs: Sequence[tuple[str, JSON]]) -> int:
    for (ln, lv), (rn, rv) in zip(lhs, rhs, strict=False):
        if ln != rn:
            return (ln > rn) - (ln < rn)
        c = compare_values(lv, rv)
        if c:
            return c
    return (len(lhs) > len(rhs)) - (len(lhs) < len(rhs))


_PE_ORDER = cmp_to_key(PathElement.compare)
pe_order = _PE_ORDER  # a sort key: SMD's order of path elements

Path = tuple[PathElement, ...]


def path_string(path: Path) -> str:
    """``fieldpath.Path.String()``: ``.spec.ports[port=80,protocol="TCP"].name``."""
    return "".join(str(pe) for pe in path)


class FieldSet:
    """A set of paths, as a trie: ``members`` are owned elements, ``children`` deeper sets.

    Operations return new sets and never modify their operands, but may share unchanged
    subtrees with them: :meth:`insert` is for building a set, never for one already combined.
    """

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[PathElement] = set()
        self.children: dict[PathElement, FieldSet] = {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        out = cls()
        for p in paths:
            out.insert(p)
        return out

    def insert(self, path: Path) -> None:
        """Add ``path`` (its parents are not added); the empty path is never tracked."""
        if not path:
            return
        node = self
        for pe in path[:-1]:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = FieldSet()
            node = child
        node.members.add(path[-1])

    def copy(self) -> FieldSet:
        out = FieldSet()
        out.members = set(self.members)
        out.children = {pe: c.copy() for pe, c in self.children.items()}
        return out

    def empty(self) -> bool:
        return not self.members and all(c.empty() for c in self.children.values())

    def has(self, path: Path) -> bool:
        if not path:
            return False
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node is not None else None
            if node is None:
                return False
        return node is not None and path[-1] in node.members

    def with_prefix(self, pe: PathElement) -> FieldSet:
        """The paths under ``pe``, without it."""
        return self.children.get(pe) or FieldSet()

    def union(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members | other.members
        out.children = dict(self.children)
        for pe, b in other.children.items():
            a = out.children.get(pe)
            out.children[pe] = b if a is None else a.union(b)
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members & other.members
        for pe, a in self.children.items():
            b = other.children.get(pe)
            if b is not None:
                sub = a.intersection(b)
                if not sub.empty():
                    out.children[pe] = sub
        return out

    def difference(self, other: FieldSet) -> FieldSet:
        """Leaves act as a set difference; a parent minus its child is still the parent."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, a in self.children.items():
            b = other.children.get(pe)
            if b is None:
                out.children[pe] = a
                continue
            sub = a.difference(b)
            if not sub.empty():
                out.children[pe] = sub
        return out

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Removes every path of ``other`` and everything below it."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, a in self.children.items():
            if pe in other.members:
                continue
            b = other.children.get(pe)
            if b is None:
                out.children[pe] = a
                continue
            sub = a.recursive_difference(b)
            if not sub.empty():
                out.children[pe] = sub
        return out

    def leaves(self) -> FieldSet:
        """Members that are not also parents of other members."""
        out = FieldSet()
        out.members = {m for m in self.members if m not in self.children}
        for pe, c in self.children.items():
            sub = c.leaves()
            if not sub.empty():
                out.children[pe] = sub
        return out

    def paths(self) -> Iterator[Path]:
        """Every member path, preorder, in SMD's element order (members before children)."""
        yield from self._paths(())

    def _paths(self, prefix: Path) -> Iterator[Path]:
        for pe in sorted(self.members, key=_PE_ORDER):
            yield (*prefix, pe)
        for pe in sorted(self.children, key=_PE_ORDER):
            yield from self.children[pe]._paths((*prefix, pe))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return set(self.paths()) == set(other.paths())

    def __hash__(self) -> int:  # pragma: no cover - sets are mutable while built
        raise TypeError("FieldSet is unhashable")

    def __repr__(self) -> str:
        return "FieldSet(" + ", ".join(path_string(p) for p in self.paths()) + ")"

    # --- FieldsV1 ---------------------------------------------------------------------------

    def to_fields_v1(self) -> dict[str, Any]:
        """The ``fieldsV1`` object, keys in the order the API server writes them."""
        return self._emit(False)

    def _emit(self, is_member: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if is_member:
            out["."] = {}
        for pe in sorted(self.members | self.children.keys(), key=_PE_ORDER):
            child = self.children.get(pe)
            if child is None:
                out[pe.serialize()] = {}
            else:
                out[pe.serialize()] = child._emit(pe in self.members)
        return out

    @classmethod
    def from_fields_v1(cls, doc: object) -> FieldSet:
        """Reads a ``fieldsV1`` object; raises :class:`FieldsV1Error` if it is malformed."""
        if not isinstance(doc, dict):
            raise FieldsV1Error("fieldsV1 must be a JSON object")
        children, _ = cls._read(doc)
        return children or FieldSet()

    @classmethod
    def _read(cls, doc: Mapping[str, Any]) -> tuple[FieldSet | None, bool]:
        # Mirrors readIterV1: a node with no children is a member of its parent.
        children: FieldSet | None = None
        is_member = False
        for key, sub in doc.items():
            if key == ".":
                is_member = True
                continue
            pe = PathElement.deserialize(key)
            if pe is None:
                continue
            if not isinstance(sub, dict):
                raise FieldsV1Error(f"{key}: expected an object")
            grandchildren, child_is_member = cls._read(sub)
            if children is None:
                children = FieldSet()
            if child_is_member:
                children.members.add(pe)
            if grandchildren is not None:
                children.children[pe] = grandchildren
        if children is None:
            is_member = True
        return children, is_member
