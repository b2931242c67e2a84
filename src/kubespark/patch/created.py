"""The managed fields a create records, computed straight from the new object.

Owns the fast path of :func:`kubespark.patch.fieldmanager.update` for a create: the field
manager compares the new object with the empty object of its kind (``zero_object``), gives the
writer every field that comparison finds added or changed, resets ``.status`` (or ``.spec``),
and strips the metadata nobody owns. For a new object that comparison is the object's own
shape: every node below the empty object's ``metadata``/``spec``/``status`` is new, so each is a
member, list-map elements keyed by the schema's keys. This module walks the object once,
checks it types (the server drops managedFields of an object it cannot type) and writes the
``fieldsV1`` document directly, without building field sets, comparing or merging.

It answers only the common case and gives up (``None``) on anything else -- a value the schema
cannot type, duplicate list-map keys, an unexpected empty object, any shape the general path
treats specially -- so the caller falls back to the general machinery. Whenever it answers, the
answer equals the general path's (``tests/patch/test_fast_paths.py`` checks that over random
objects of the real schemas). Pure; values are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubespark.patch.fieldpath import PathElement, pe_order
from kubespark.patch.rules import TypingRules
from kubespark.patch.schema import Atom, ListAtom, MapAtom, SchemaIndex, TypeRef
from kubespark.patch.typed import KeyError_, element_path
from kubespark.patch.values import JSON

__all__ = ["created_fields_v1"]

# The metadata fields stripmeta.go drops from every manager (all scalars in ObjectMeta).
_STRIPPED_META = frozenset(
    {
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    }
)
_STRIPPED_TOP = frozenset({"apiVersion", "kind"})
_SCALAR_TYPES = (str, int, float, bool)


class _GiveUp(Exception):
    """The object needs the general path."""


class _Walker:
    """One walk of a new object: its fieldsV1 nodes, or :class:`_GiveUp`."""

    __slots__ = ("index", "optional_keys")

    def __init__(self, index: SchemaIndex, rules: TypingRules) -> None:
        self.index = index
        self.optional_keys = rules.optional_keys

    def atom(self, ref: TypeRef) -> Atom:
        """The atom of ``ref``; gives up where typing fails ("schema error", "invalid atom").

        A list or map where an untyped scalar goes fails with some value styles only; the walk
        gives up on it whatever the style, so the style never matters here.
        """
        atom = ref.inline
        if atom is None:
            name = ref.name
            if name is None or not self.index.has_type(name):
                raise _GiveUp
            atom = self.index.resolve(ref)
        if atom.is_empty:
            raise _GiveUp
        return atom

    # --- typing only -----------------------------------------------------------------------

    def check(self, value: JSON, ref: TypeRef) -> None:
        """Gives up unless ``value`` types as ``ref`` (typed/validate.go's walk, no errors)."""
        atom = self.atom(ref)
        if value is None:
            return
        if isinstance(value, dict):
            m = atom.map
            if m is None:
                raise _GiveUp
            for key, child in value.items():
                self.check(child, _field_ref(m, key))
        elif isinstance(value, list):
            la = atom.list
            if la is None:
                raise _GiveUp
            if la.associative:
                self._keyed(value, la)
            element = la.element
            for child in value:
                self.check(child, element)
        else:
            self._scalar(value, atom)

    def _scalar(self, value: JSON, atom: Atom) -> None:
        kind = atom.scalar
        if kind is None or not isinstance(value, _SCALAR_TYPES):
            raise _GiveUp
        if kind == "string":
            ok = isinstance(value, str)
        elif kind == "numeric":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = True  # untyped: any scalar
        if not ok:
            raise _GiveUp

    def _keyed(self, items: list[JSON], la: ListAtom) -> list[PathElement]:
        """The path elements of a list-map's or set's items; gives up on bad or repeated ones."""
        optional = self.optional_keys
        pes = []
        for child in items:
            try:
                pes.append(element_path(la, child, optional))
            except KeyError_:
                raise _GiveUp from None
        if len(set(pes)) != len(pes):
            raise _GiveUp  # duplicates: the comparison keeps them whole
        return pes

    # --- a new value: every node a member ------------------------------------------------------

    def added(self, value: JSON, ref: TypeRef) -> dict[str, Any]:
        """The fieldsV1 node of a value the object did not have before."""
        atom = self.atom(ref)
        if value is None:
            return {}
        if isinstance(value, dict):
            m = atom.map
            if m is None:
                raise _GiveUp
            if m.atomic or not value:
                for key, child in value.items():
                    self.check(child, _field_ref(m, key))
                return {}
            return self._fields(value, m, {".": {}})
        if isinstance(value, list):
            la = atom.list
            if la is None:
                raise _GiveUp
            if not la.associative or not value:
                if la.associative:
                    self._keyed(value, la)
                element = la.element
                for child in value:
                    self.check(child, element)
                return {}
            pes = self._keyed(value, la)
            nodes = {
                pe: self.added(child, la.element) for pe, child in zip(pes, value, strict=True)
            }
            out: dict[str, Any] = {".": {}}
            for pe in sorted(nodes, key=pe_order):
                out[pe.serialize()] = nodes[pe]
            return out
        self._scalar(value, atom)
        return {}

    def _fields(self, value: Mapping[str, JSON], m: MapAtom, out: dict[str, Any]) -> dict[str, Any]:
        for key in sorted(value):
            out["f:" + key] = self.added(value[key], _field_ref(m, key))
        return out

    # --- the object against the empty object of its kind -----------------------------------------

    def existing(
        self, value: JSON, ref: TypeRef, before: Mapping[str, JSON], stripped: frozenset[str]
    ) -> dict[str, Any]:
        """The node of a field the empty object has (``{}``, or metadata's creationTimestamp):
        not a member; its new keys are; ``stripped`` keys belong to nobody."""
        atom = self.atom(ref)
        m = atom.map
        if not isinstance(value, dict) or m is None or m.atomic:
            raise _GiveUp
        out: dict[str, Any] = {}
        for key in sorted(value):
            child = value[key]
            child_ref = _field_ref(m, key)
            if key in stripped or key in before:
                if key not in stripped or before.get(key) is not None:
                    raise _GiveUp
                self._stripped(child, child_ref)
                continue
            out["f:" + key] = self.added(child, child_ref)
        return out

    def _stripped(self, value: JSON, ref: TypeRef) -> None:
        # stripmeta.go removes the member only; a value with children would keep them.
        if isinstance(value, dict | list):
            raise _GiveUp
        self.check(value, ref)


def _field_ref(m: MapAtom, key: str) -> TypeRef:
    ref = m.fields.get(key)
    if ref is None:
        ref = m.element
    if ref.name is None and ref.inline is None:
        raise _GiveUp  # a field the schema does not declare
    return ref


def created_fields_v1(
    new: Mapping[str, JSON],
    zero: Mapping[str, JSON],
    ref: TypeRef,
    index: SchemaIndex,
    rules: TypingRules,
    reset: frozenset[str],
) -> dict[str, Any] | None:
    """The ``fieldsV1`` a create of ``new`` (without managedFields) gives its writer.

    ``zero`` is the empty object the field manager compares with (``ObjectType.zero_object``),
    ``reset`` the top-level fields neither owned nor compared (``.status``). ``{}`` when the
    writer owns nothing; ``None`` when the general path must decide (see the module docstring).
    """
    walker = _Walker(index, rules)
    try:
        root = walker.atom(ref).map
        if root is None or root.atomic:
            return None
        out: dict[str, Any] = {}
        for key in sorted(new):
            value = new[key]
            child_ref = _field_ref(root, key)
            if key in reset:
                walker.check(value, child_ref)
                continue
            if key in _STRIPPED_TOP:
                walker._stripped(value, child_ref)
                continue
            before = zero.get(key)
            if key not in zero:
                if key == "metadata":
                    return None
                out["f:" + key] = walker.added(value, child_ref)
                continue
            if not isinstance(before, dict):
                return None
            if value == {}:
                walker.check(value, child_ref)
                continue  # as empty as before: nothing changed
            stripped = _STRIPPED_META if key == "metadata" else frozenset()
            node = walker.existing(value, child_ref, before, stripped)
            if node:
                out["f:" + key] = node
        return out
    except _GiveUp:
        return None
