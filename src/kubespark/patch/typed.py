"""Typed operations on plain objects, as structured-merge-diff performs them for apply.

Owns the walkers of structured-merge-diff's ``typed`` package, over JSON values and the atoms of
:mod:`kubespark.patch.schema`:

- :func:`validate` -- the typed conversion of an apply body ("failed to create typed patch
  object"): undeclared fields, list-map elements that omit a key without an apply default,
  values of the wrong type, duplicate keys; which errors one request reports and how they print
  follow the version's :class:`~kubespark.patch.rules.TypingRules`;
- :func:`to_field_set` -- the fields a value sets (what an applier owns);
- :func:`merge` -- an apply configuration merged onto the live object (maps by field, list-maps
  by key, sets by value, atomic lists and maps replaced);
- :func:`compare` -- added, modified and removed fields between two objects;
- :func:`remove_items` -- a value without the given fields (pruning).

Walk order: Go iterates an object's fields in random order, so a real server's choice among
several undeclared fields (and whether a list error precedes them) varies between requests.
Here a map's declared fields are walked before its undeclared ones, each in body order: the
order kubeflow/spark-operator#2048 (1.18) and #2051 (1.17) show, and the same every time.

Pure functions; values are never modified in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from kubespark.patch.compiled import types_cleanly
from kubespark.patch.elements import KeyError_, TypingErrorKind, element_path
from kubespark.patch.fieldpath import FieldSet, Path, PathElement, path_string
from kubespark.patch.rules import TypingRules, ValueStyle, Walk
from kubespark.patch.schema import Atom, ListAtom, MapAtom, SchemaIndex, TypeRef
from kubespark.patch.values import (
    JSON,
    MISSING,
    go_sharp_v,
    go_type_name,
    go_v,
    hashable,
    json_kind,
    sequence_of_str,
    smd_v1_string,
    values_equal,
)

__all__ = [
    "Comparison",
    "TypingError",
    "TypingErrorKind",
    "compare",
    "merge",
    "remove_items",
    "to_field_set",
    "validate",
]


@dataclass(frozen=True, slots=True)
class TypingError:
    """One reason a server cannot type an object, as its message prints and where it is."""

    path: str  # ".spec.ports" as the server prints it
    message: str  # "element 0: associative list with keys has an element that omits ..."
    kind: TypingErrorKind
    location: tuple[str | int, ...]  # JSON location: ("spec", "ports", 0)
    name: str | None = None  # the undeclared field or the omitted key

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class TypingFailed(Exception):
    """A value the schema cannot type; carries the errors."""

    def __init__(self, errors: Sequence[TypingError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = tuple(errors)


# --- shared helpers -------------------------------------------------------------------------


def _kind(value: JSON) -> str:
    kind = json_kind(value)
    return kind if kind in ("null", "map", "list") else "scalar"


def _deduce(atom: Atom, value: JSON, invalid_atom_quirk: bool = False) -> Atom:
    """The part of ``atom`` that applies to ``value`` (SMD's ``deduceAtom``)."""
    if atom.parts == 1 and not invalid_atom_quirk:
        return atom  # one kind only: deducing returns it whatever the value
    kind = _kind(value)
    if kind == "null":
        return atom
    if invalid_atom_quirk:
        # Before SMD commit 4f746db the deduced atom kept only the value's kind, even if the
        # schema had none, so a wrong kind failed as "invalid atom".
        if kind == "scalar":
            return Atom(scalar=atom.scalar)
        if kind == "list":
            return Atom(list=atom.list)
        return Atom(map=atom.map)
    if kind == "scalar" and atom.scalar is not None:
        return Atom(scalar=atom.scalar)
    if kind == "list" and atom.list is not None:
        return Atom(list=atom.list)
    if kind == "map" and atom.map is not None:
        return Atom(map=atom.map)
    return atom


def _ordered_keys(atom: MapAtom, value: dict[str, JSON]) -> list[str]:
    declared = [k for k in value if k in atom.fields]
    undeclared = [k for k in value if k not in atom.fields]
    return declared + undeclared


def _field_ref(atom: MapAtom, key: str) -> TypeRef:
    ref = atom.fields.get(key)
    return ref if ref is not None else atom.element


# --- validation -----------------------------------------------------------------------------


@dataclass
class _Validator:
    index: SchemaIndex
    rules: TypingRules
    complete: bool  # report everything, descend everywhere (the planner's view)
    errors: list[TypingError] = field(default_factory=list)

    @property
    def _collect_all(self) -> bool:
        return self.complete or self.rules.walk is Walk.COLLECT_ALL

    def fail(
        self,
        path: Path,
        loc: tuple[str | int, ...],
        message: str,
        kind: TypingErrorKind,
        name: str | None = None,
    ) -> None:
        self.errors.append(TypingError(path_string(path), message, kind, loc, name))

    # value rendering -------------------------------------------------------------------

    def _v1(self) -> bool:
        return self.rules.values in (ValueStyle.SMD_V1, ValueStyle.SMD_V1_INVALID_ATOM)

    def render_v(self, value: JSON) -> str:
        return smd_v1_string(value) if self._v1() else "&{" + go_v(value) + "}"

    def render_sharp(self, value: JSON) -> str:
        if self._v1():
            return smd_v1_string(value)
        return "&value.valueUnstructured{Value:" + go_sharp_v(value) + "}"

    def render_type(self, value: JSON) -> str:
        if self._v1():
            return smd_v1_string(value)
        if self.rules.values is ValueStyle.SMD_V3:
            return "*value.valueUnstructured"
        return go_type_name(value)

    # walk --------------------------------------------------------------------------------

    def value(self, v: JSON, ref: TypeRef, path: Path, loc: tuple[str | int, ...]) -> None:
        if ref.name is not None and not self.index.has_type(ref.name):
            self.fail(
                path,
                loc,
                f"schema error: no type found matching: {ref.name}",
                TypingErrorKind.SCHEMA,
            )
            return
        quirk = self.rules.values is ValueStyle.SMD_V1_INVALID_ATOM and not self.complete
        atom = _deduce(self.index.resolve(ref), v, quirk)
        if atom.map is not None:
            self.do_map(v, atom.map, path, loc)
        elif atom.scalar is not None:
            self.do_scalar(v, atom.scalar, path, loc)
        elif atom.list is not None:
            self.do_list(v, atom.list, path, loc)
        else:
            what = f"named type: {ref.name}" if ref.name is not None else "inlined"
            kind = TypingErrorKind.UNKNOWN_FIELD if ref.is_empty else TypingErrorKind.WRONG_TYPE
            name = str(loc[-1]) if ref.is_empty and loc else None
            self.fail(path, loc, f"schema error: invalid atom: {what}", kind, name)

    def do_scalar(self, v: JSON, kind: str, path: Path, loc: tuple[str | int, ...]) -> None:
        if v is None:
            return
        wrong = TypingErrorKind.WRONG_TYPE
        is_number = isinstance(v, int | float) and not isinstance(v, bool)
        if kind == "numeric" and not is_number:
            word = "%v" if self._v1() else "%T"
            got = self.render_type(v) if word == "%T" else smd_v1_string(v)
            self.fail(path, loc, f"expected numeric (int or float), got {got}", wrong)
        elif kind == "string" and not isinstance(v, str):
            self.fail(path, loc, f"expected string, got {self.render_sharp(v)}", wrong)
        elif kind == "boolean" and not isinstance(v, bool):
            self.fail(path, loc, f"expected boolean, got {self.render_v(v)}", wrong)
        elif (
            kind == "untyped"
            and self.rules.values is ValueStyle.SMD_V44
            and isinstance(v, dict | list)
        ):
            self.fail(path, loc, f"expected any scalar, got {self.render_v(v)}", wrong)

    def _is(self, v: JSON, kind: type, name: str, path: Path, loc: tuple[str | int, ...]) -> bool:
        """Whether ``v`` is a ``kind`` to walk; null is nothing to type, another kind fails."""
        if v is None:
            return False
        if not isinstance(v, kind):
            self.fail(
                path, loc, f"expected {name}, got {self.render_v(v)}", TypingErrorKind.WRONG_TYPE
            )
            return False
        return True

    def do_list(self, v: JSON, atom: ListAtom, path: Path, loc: tuple[str | int, ...]) -> None:
        if not self._is(v, list, "list", path, loc):
            return
        seen: set[PathElement] = set()
        for i, child in enumerate(v):
            if not atom.associative:
                pe = PathElement.of_index(i)
            else:
                try:
                    pe = element_path(atom, child, self.rules.optional_keys)
                except KeyError_ as exc:
                    self._element_error(exc, atom, i, path, loc)
                    if not self._collect_all:
                        return  # SMD v3+: bail on the whole list
                    if not self.complete:
                        continue
                    pe = PathElement.of_index(i)
                if pe in seen:
                    self.fail(
                        path,
                        loc,
                        f"duplicate entries for key {pe}",
                        TypingErrorKind.DUPLICATE_KEY,
                    )
                seen.add(pe)
            self.value(child, atom.element, (*path, pe), (*loc, i))

    def _element_error(
        self, exc: KeyError_, atom: ListAtom, i: int, path: Path, loc: tuple[str | int, ...]
    ) -> None:
        if exc.kind is TypingErrorKind.OMITTED_KEY:
            key = exc.name or ""
            message = self.rules.omitted_key.format(
                index=i, key=key, keys=sequence_of_str(atom.keys)
            )
            self.fail(path, (*loc, i), message, exc.kind, key)
        else:
            self.fail(path, (*loc, i), f"element {i}: {exc.message}", exc.kind)

    def do_map(self, v: JSON, atom: MapAtom, path: Path, loc: tuple[str | int, ...]) -> None:
        if not self._is(v, dict, "map", path, loc):
            return
        quirk = self.rules.values is ValueStyle.SMD_V1_INVALID_ATOM and not self.complete
        for key in _ordered_keys(atom, v):
            ref = _field_ref(atom, key)
            pe = PathElement.field(key)
            if ref.is_empty and not quirk:
                self.fail(
                    (*path, pe),
                    (*loc, key),
                    self.rules.unknown_field,
                    TypingErrorKind.UNKNOWN_FIELD,
                    key,
                )
                if not self._collect_all:
                    return  # SMD v3+: stop at the first undeclared field
                continue
            self.value(v[key], ref, (*path, pe), (*loc, key))


def validate(
    value: JSON, ref: TypeRef, index: SchemaIndex, rules: TypingRules, *, complete: bool = False
) -> list[TypingError]:
    """The typing errors of ``value``: those the server reports, or all of them (``complete``)."""
    if types_cleanly(value, ref, index, rules.optional_keys):
        return []  # the compiled walk found nothing that could be an error
    walker = _Validator(index, rules, complete)
    walker.value(value, ref, (), ())
    return walker.errors


# --- field sets -----------------------------------------------------------------------------


def to_field_set(
    value: JSON, ref: TypeRef, index: SchemaIndex, *, optional_keys: bool = False
) -> FieldSet:
    """The fields ``value`` sets (SMD's ``ToFieldSet``): what applying it claims."""
    out = FieldSet()
    _fs_value(value, ref, index, (), out, optional_keys)
    return out


def _fs_value(
    v: JSON, ref: TypeRef, index: SchemaIndex, path: Path, out: FieldSet, optional_keys: bool
) -> None:
    atom = _deduce(index.resolve(ref), v)
    if atom.map is not None:
        m = atom.map
        if m.atomic:
            out.insert(path)
            return
        if not isinstance(v, dict):
            return
        for key, child in v.items():
            sub = (*path, PathElement.field(key))
            declared = key in m.fields
            _fs_value(child, _field_ref(m, key), index, sub, out, optional_keys)
            if child is None or (isinstance(child, dict) and not child) or not declared:
                out.insert(sub)
    elif atom.scalar is not None:
        out.insert(path)
    elif atom.list is not None:
        la = atom.list
        if not la.associative:
            out.insert(path)
            return
        if not isinstance(v, list):
            return
        pes = [_safe_element_path(la, child, optional_keys) for child in v]
        seen: set[PathElement] = set()
        duplicates: set[PathElement] = set()
        for pe in pes:
            if pe in seen and pe not in duplicates:
                out.insert((*path, pe))
                duplicates.add(pe)
            seen.add(pe)
        for pe, child in zip(pes, v, strict=True):
            if pe in duplicates:
                continue
            _fs_value(child, la.element, index, (*path, pe), out, optional_keys)
            out.insert((*path, pe))


def _safe_element_path(atom: ListAtom, child: JSON, optional_keys: bool) -> PathElement:
    try:
        return element_path(atom, child, optional_keys)
    except KeyError_:
        return PathElement.of_key({})  # SMD ignores the error here: the value was validated


# --- merge ----------------------------------------------------------------------------------


@dataclass
class _Merger:
    index: SchemaIndex
    optional_keys: bool

    def value(self, lhs: JSON, rhs: JSON, ref: TypeRef) -> JSON:
        """Returns MISSING when the result has no value (both sides absent)."""
        atom = self.index.resolve(ref)
        alhs = _deduce(atom, lhs) if lhs is not MISSING else atom
        arhs = _deduce(atom, rhs) if rhs is not MISSING else atom
        chosen = alhs if rhs is MISSING else arhs
        if lhs is not MISSING and rhs is not MISSING and alhs != arhs:
            lhs = MISSING  # the two sides have different kinds: the applied value wins
        if chosen.map is not None:
            return self.do_map(lhs, rhs, chosen.map)
        if chosen.scalar is not None or chosen.list is None:
            return _keep_rhs(lhs, rhs)
        return self.do_list(lhs, rhs, chosen.list)

    def do_map(self, lhs: JSON, rhs: JSON, atom: MapAtom) -> JSON:
        lmap = lhs if isinstance(lhs, dict) else None
        rmap = rhs if isinstance(rhs, dict) else None
        if atom.atomic or (not lmap and not rmap):
            return _keep_rhs(lhs, rhs)
        out: dict[str, JSON] = {}
        keys = list(lmap or {}) + [k for k in (rmap or {}) if k not in (lmap or {})]
        for key in keys:
            child = self.value(
                (lmap or {}).get(key, MISSING),
                (rmap or {}).get(key, MISSING),
                _field_ref(atom, key),
            )
            if child is not MISSING:
                out[key] = child
        return out if out else MISSING

    def do_list(self, lhs: JSON, rhs: JSON, atom: ListAtom) -> JSON:
        llist = lhs if isinstance(lhs, list) else None
        rlist = rhs if isinstance(rhs, list) else None
        if not atom.associative or (not llist and not rlist):
            return _keep_rhs(lhs, rhs)
        return self._items(llist or [], rlist or [], atom)

    def _index(
        self, items: list[JSON], atom: ListAtom, allow_duplicates: bool
    ) -> tuple[list[PathElement], dict[PathElement, JSON]]:
        pes: list[PathElement] = []
        observed: dict[PathElement, JSON] = {}
        for child in items:
            pe = element_path(atom, child, self.optional_keys)
            if pe in observed:
                if not allow_duplicates:
                    raise TypingFailed(
                        [
                            TypingError(
                                "",
                                f"duplicate entries for key {pe}",
                                TypingErrorKind.DUPLICATE_KEY,
                                (),
                            )
                        ]
                    )
                observed[pe] = None  # duplicated items are not merged with the new value
            else:
                observed[pe] = child
            pes.append(pe)
        return pes, observed

    def _items(self, lhs: list[JSON], rhs: list[JSON], atom: ListAtom) -> JSON:
        # SMD's mergingWalker.visitListItems: keeps live order, interleaving applied items.
        rpes, robs = self._index(rhs, atom, allow_duplicates=False)
        lpes, lobs = self._index(lhs, atom, allow_duplicates=True)
        shared = [pe for pe in rpes if pe in lobs]
        next_shared = shared.pop(0) if shared else None
        merged_rhs: set[PathElement] = set()
        out: list[JSON] = []
        li = ri = 0
        while li < len(lpes) or ri < len(rpes):
            if li < len(lpes) and ri < len(rpes):
                pe = lpes[li]
                if pe == rpes[ri]:
                    merged_rhs.add(pe)
                    self._emit(out, lobs.get(pe, MISSING), robs[pe], atom)
                    li += 1
                    ri += 1
                    next_shared = shared.pop(0) if shared else None
                    continue
                if pe in robs and next_shared is not None and next_shared != pe:
                    li += 1
                    continue
            if li < len(lpes):
                pe = lpes[li]
                if pe not in robs:
                    self._emit(out, lhs[li], MISSING, atom)
                    li += 1
                    continue
                if pe in merged_rhs:
                    li += 1
            if ri < len(rpes):
                pe = rpes[ri]
                merged_rhs.add(pe)
                self._emit(out, lobs.get(pe, MISSING), robs[pe], atom)
                ri += 1
                if next_shared is not None and next_shared == pe:
                    next_shared = shared.pop(0) if shared else None
        return out if out else MISSING

    def _emit(self, out: list[JSON], lhs: JSON, rhs: JSON, atom: ListAtom) -> None:
        child = self.value(lhs, rhs, atom.element)
        if child is not MISSING:
            out.append(child)


def _keep_rhs(lhs: JSON, rhs: JSON) -> JSON:
    return rhs if rhs is not MISSING else lhs


def merge(
    lhs: JSON, rhs: JSON, ref: TypeRef, index: SchemaIndex, *, optional_keys: bool = False
) -> JSON:
    """``rhs`` (an apply configuration) merged onto ``lhs`` (the live object)."""
    out = _Merger(index, optional_keys).value(lhs, rhs, ref)
    return {} if out is MISSING else out


# --- compare --------------------------------------------------------------------------------


@dataclass
class Comparison:
    added: FieldSet = field(default_factory=FieldSet)
    modified: FieldSet = field(default_factory=FieldSet)
    removed: FieldSet = field(default_factory=FieldSet)

    def is_same(self) -> bool:
        return self.added.empty() and self.modified.empty() and self.removed.empty()

    def excluding(self, fields: FieldSet) -> Comparison:
        """Without ``fields`` and everything below them (reset fields)."""
        if fields.empty():
            return self
        return Comparison(
            self.added.recursive_difference(fields),
            self.modified.recursive_difference(fields),
            self.removed.recursive_difference(fields),
        )


@dataclass
class _Comparer:
    index: SchemaIndex
    optional_keys: bool
    result: Comparison = field(default_factory=Comparison)

    def value(self, lhs: JSON, rhs: JSON, ref: TypeRef, path: Path) -> None:
        atom = self.index.resolve(ref)
        alhs = _deduce(atom, lhs) if lhs is not MISSING else atom
        arhs = _deduce(atom, rhs) if rhs is not MISSING else atom
        if rhs is MISSING:
            in_leaf = self._handle(alhs, lhs, rhs, path)
        elif lhs is MISSING or alhs == arhs:
            in_leaf = self._handle(arhs, lhs, rhs, path)
        else:
            # Different kinds on each side (a deduced value changed shape): SMD walks both
            # atoms with both values; each side reads only the value its atom can hold.
            self._handle(alhs, lhs, rhs, path)
            in_leaf = self._handle(arhs, lhs, rhs, path)
        if not in_leaf:
            if lhs is MISSING:
                self.result.added.insert(path)
            elif rhs is MISSING:
                self.result.removed.insert(path)

    def _leaf(self, lhs: JSON, rhs: JSON, path: Path) -> bool:
        if lhs is MISSING:
            self.result.added.insert(path)
        elif rhs is MISSING:
            self.result.removed.insert(path)
        elif not values_equal(lhs, rhs):
            self.result.modified.insert(path)
        return True

    def _handle(self, atom: Atom, lhs: JSON, rhs: JSON, path: Path) -> bool:
        """Returns True when the node was compared as a leaf."""
        if atom.map is not None:
            m = atom.map
            lmap = lhs if isinstance(lhs, dict) else None
            rmap = rhs if isinstance(rhs, dict) else None
            if m.atomic or (not lmap and not rmap):
                return self._leaf(lhs, rhs, path)
            keys = list(lmap or {}) + [k for k in (rmap or {}) if k not in (lmap or {})]
            for key in keys:
                self.value(
                    (lmap or {}).get(key, MISSING),
                    (rmap or {}).get(key, MISSING),
                    _field_ref(m, key),
                    (*path, PathElement.field(key)),
                )
            return False
        if atom.scalar is not None or atom.list is None:
            return self._leaf(lhs, rhs, path)
        la = atom.list
        llist = lhs if isinstance(lhs, list) else None
        rlist = rhs if isinstance(rhs, list) else None
        if not la.associative or (not llist and not rlist):
            return self._leaf(lhs, rhs, path)
        self._items(llist or [], rlist or [], la, path)
        return False

    def _group(self, items: list[JSON], atom: ListAtom) -> dict[PathElement, list[JSON]]:
        grouped: dict[PathElement, list[JSON]] = {}
        for child in items:
            try:
                pe = element_path(atom, child, self.optional_keys)
            except KeyError_:
                continue
            grouped.setdefault(pe, []).append(child)
        return grouped

    def _items(self, lhs: list[JSON], rhs: list[JSON], atom: ListAtom, path: Path) -> None:
        lvalues, rvalues = self._group(lhs, atom), self._group(rhs, atom)
        every = list(lvalues) + [pe for pe in rvalues if pe not in lvalues]
        for pe in every:
            ll, rl = lvalues.get(pe, []), rvalues.get(pe, [])
            sub = (*path, pe)
            if len(ll) <= 1 and len(rl) <= 1:
                self.value(ll[0] if ll else MISSING, rl[0] if rl else MISSING, atom.element, sub)
            elif len(ll) >= 2 and len(rl) >= 2:
                if len(ll) != len(rl) or not all(
                    values_equal(a, b) for a, b in zip(ll, rl, strict=True)
                ):
                    self.result.modified.insert(sub)
            elif len(ll) >= 2:
                if rl:
                    self.value(MISSING, rl[0], atom.element, sub)
                self.result.removed.insert(sub)
            else:
                if ll:
                    self.value(ll[0], MISSING, atom.element, sub)
                self.result.added.insert(sub)


def compare(
    lhs: JSON, rhs: JSON, ref: TypeRef, index: SchemaIndex, *, optional_keys: bool = False
) -> Comparison:
    """What changed from ``lhs`` to ``rhs`` (SMD's ``Compare``)."""
    walker = _Comparer(index, optional_keys)
    walker.value(lhs, rhs, ref, ())
    return walker.result


# --- removal --------------------------------------------------------------------------------


def remove_items(
    value: JSON,
    to_remove: FieldSet,
    ref: TypeRef,
    index: SchemaIndex,
    *,
    optional_keys: bool = False,
) -> JSON:
    """``value`` without the fields of ``to_remove`` (SMD's ``RemoveItems``); None if empty."""
    return _remove(value, to_remove, ref, index, optional_keys)


def _remove(v: JSON, to_remove: FieldSet, ref: TypeRef, index: SchemaIndex, opt: bool) -> JSON:
    atom = _deduce(index.resolve(ref), v)
    if atom.map is not None:
        m = atom.map
        if not isinstance(v, dict):
            return None
        if not v:
            return None
        if m.atomic:
            return None
        out: dict[str, JSON] = {}
        for key, child in v.items():
            pe = PathElement.field(key)
            if pe in to_remove.members:
                continue
            sub = to_remove.children.get(pe)
            if sub is not None and not sub.empty():
                child = _remove(child, sub, _field_ref(m, key), index, opt)
            out[key] = child
        return out if out else None
    if atom.scalar is not None or atom.list is None:
        return v
    la = atom.list
    if not isinstance(v, list) or not v or not la.associative:
        return None
    items: list[JSON] = []
    for child in v:
        pe = _safe_element_path(la, child, opt)
        if pe in to_remove.members:
            continue
        sub = to_remove.children.get(pe)
        if sub is not None and not sub.empty():
            child = _remove(child, sub, la.element, index, opt)
        items.append(child)
    return items if items else None


def ensure_named_fields_are_members(fields: FieldSet, ref: TypeRef, index: SchemaIndex) -> FieldSet:
    """``fields`` plus every struct field it descends through (SMD's helper of the same name)."""
    atom = index.resolve(ref)
    out = FieldSet()
    out.members = set(fields.members)
    for pe, child in fields.children.items():
        if pe.kind == "f" and atom.map is not None and pe.name in atom.map.fields:
            out.members.add(pe)
        child_ref = TypeRef()
        if pe.kind == "f" and atom.map is not None:
            child_ref = _field_ref(atom.map, pe.name)
        elif pe.kind == "k" and atom.list is not None:
            child_ref = atom.list.element
        out.children[pe] = ensure_named_fields_are_members(child, child_ref, index)
    return out


def walk_paths(fields: FieldSet) -> Iterator[Path]:
    """Every member path of ``fields`` in the order the server lists conflicts."""
    return fields.paths()


def hash_value(value: JSON) -> object:
    """Re-exported for callers that index values (set elements, keys)."""
    return hashable(value)


ValueFn = Callable[[JSON], JSON]
