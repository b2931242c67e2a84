"""The API surface's types as server-side apply sees them: structured-merge-diff atoms.

Owns the conversion kube-openapi's ``schemaconv`` performs for the API server's type converter:
an object type becomes a *map* with named fields (granular unless ``x-kubernetes-map-type:
atomic``; unknown fields allowed only with ``x-kubernetes-preserve-unknown-fields``), a map of
values a map with an element type, an array a *list* that is atomic, a set, or a map keyed by
its list-map keys (``x-kubernetes-list-type``, or else derived from the strategic-merge patch
strategy and merge key, as schemaconv does for schemas that predate list types), and anything
else a scalar (``Quantity`` and int-or-string are "untyped" scalars; ``RawExtension`` an
atomic blob; untyped JSON a "deduced" value). List-map keys that a version defaults for apply
(ServicePort ``protocol`` from 1.21 and 1.20.6) come from the surface's behaviours.

Only reads the surface; builds atoms lazily and caches them per :class:`SchemaIndex`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubespark.apisurface.model import ApiSurface, ListType, Schema, SchemaKind, TypeDef

__all__ = ["Atom", "ListAtom", "MapAtom", "SchemaIndex", "TypeRef"]

RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
UNTYPED_ATOMIC = "__untyped_atomic_"
UNTYPED_DEDUCED = "__untyped_deduced_"

# Scalar kinds of structured-merge-diff: "numeric", "string", "boolean", "untyped".
_SCALARS: Mapping[SchemaKind, str] = {
    SchemaKind.STRING: "string",
    SchemaKind.INTEGER: "numeric",
    SchemaKind.NUMBER: "numeric",
    SchemaKind.BOOLEAN: "boolean",
    SchemaKind.INT_OR_STRING: "untyped",
    SchemaKind.QUANTITY: "untyped",
    SchemaKind.TIME: "untyped",
}


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A reference to an atom: a named type, or an inline atom."""

    name: str | None = None
    inline: Atom | None = None

    @property
    def is_empty(self) -> bool:
        """SMD's ``TypeRef{}``: no type; an unknown field of a struct without element type."""
        return self.name is None and self.inline is None


@dataclass(frozen=True, slots=True)
class MapAtom:
    fields: Mapping[str, TypeRef]
    element: TypeRef = TypeRef()
    atomic: bool = False


@dataclass(frozen=True, slots=True)
class ListAtom:
    element: TypeRef
    associative: bool  # set or map; atomic otherwise
    keys: tuple[str, ...] = ()
    key_defaults: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Atom:
    """What a value may be: scalar, list and/or map (deduced types allow all three)."""

    scalar: str | None = None
    list: ListAtom | None = None
    map: MapAtom | None = None
    # How many of the three are set: an atom of one kind needs no deducing (the hot path).
    parts: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        count = sum(p is not None for p in (self.scalar, self.list, self.map))
        object.__setattr__(self, "parts", count)

    @property
    def is_empty(self) -> bool:
        return self.scalar is None and self.list is None and self.map is None


_UNTYPED_ATOMIC_ATOM = Atom(
    scalar="untyped",
    list=ListAtom(TypeRef(UNTYPED_ATOMIC), associative=False),
    map=MapAtom({}, TypeRef(UNTYPED_ATOMIC), atomic=True),
)
_DEDUCED_ATOM = Atom(
    scalar="untyped",
    list=ListAtom(TypeRef(UNTYPED_ATOMIC), associative=False),
    map=MapAtom({}, TypeRef(UNTYPED_DEDUCED), atomic=False),
)


def list_semantics(schema: Schema) -> tuple[ListType, tuple[str, ...]]:
    """How apply merges an array: schemaconv's ``getListElementRelationship``.

    An explicit ``x-kubernetes-list-type`` wins; otherwise a ``merge`` patch strategy makes a
    map keyed by the merge key (a set without one); anything else is atomic.
    """
    if schema.list_type is not None:
        keys = schema.list_map_keys if schema.list_type is ListType.MAP else ()
        return schema.list_type, keys
    if schema.patch_strategy in ("merge", "merge,retainKeys"):
        if schema.patch_merge_key:
            return ListType.MAP, (schema.patch_merge_key,)
        return ListType.SET, ()
    return ListType.ATOMIC, ()


class SchemaIndex:
    """Atoms for the types of one surface (plus any custom resource types), built on demand."""

    def __init__(
        self,
        types: Mapping[str, TypeDef],
        key_defaults: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    ) -> None:
        self._types = types
        self._key_defaults = key_defaults or {}
        self._atoms: dict[str, Atom] = {
            UNTYPED_ATOMIC: _UNTYPED_ATOMIC_ATOM,
            UNTYPED_DEDUCED: _DEDUCED_ATOM,
        }
        # What walkers derive from the atoms (kubespark.patch.compiled), built on demand too.
        self.derived: dict[object, object] = {}

    @classmethod
    def for_surface(
        cls,
        surface: ApiSurface,
        extra_types: Mapping[str, TypeDef] | None = None,
        extra_key_defaults: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    ) -> SchemaIndex:
        types: Mapping[str, TypeDef] = surface.types
        if extra_types:
            types = {**surface.types, **extra_types}
        defaults = surface.behaviours.apply_key_defaults
        if extra_key_defaults:
            defaults = {**defaults, **extra_key_defaults}
        return cls(types, defaults)

    @classmethod
    def from_atoms(cls, atoms: Mapping[str, Atom]) -> SchemaIndex:
        """An index over ready-made atoms (structured-merge-diff schemas, tests)."""
        index = cls({})
        index._atoms.update(atoms)
        return index

    @property
    def types(self) -> Mapping[str, TypeDef]:
        return self._types

    def has_type(self, name: str) -> bool:
        return name in self._types or name in self._atoms

    def typedef(self, name: str) -> TypeDef | None:
        return self._types.get(name)

    def resolve(self, ref: TypeRef) -> Atom:
        """The atom a reference names; an unknown name resolves to an empty atom."""
        if ref.inline is not None:
            return ref.inline
        if ref.name is None:
            return Atom()
        atom = self._atoms.get(ref.name)
        if atom is None:
            typedef = self._types.get(ref.name)
            atom = self._struct(typedef) if typedef is not None else Atom()
            self._atoms[ref.name] = atom
        return atom

    def _struct(self, typedef: TypeDef) -> Atom:
        fields = {
            name: self._ref(schema, typedef.name, name)
            for name, schema in typedef.properties.items()
        }
        element = TypeRef(UNTYPED_DEDUCED) if typedef.preserve_unknown_fields else TypeRef()
        return Atom(map=MapAtom(fields, element, atomic=typedef.map_type == "atomic"))

    def _ref(self, schema: Schema, holder: str, prop: str) -> TypeRef:
        kind = schema.kind
        if kind is SchemaKind.OBJECT:
            if schema.ref == RAW_EXTENSION:
                return TypeRef(UNTYPED_ATOMIC)
            if schema.ref is None:
                return TypeRef(UNTYPED_DEDUCED)
            override = getattr(schema, "map_type", None)
            if override in ("atomic", "granular"):
                # A field-level x-kubernetes-map-type overrides the referred type's.
                base = self.resolve(TypeRef(schema.ref))
                if base.map is not None:
                    m = base.map
                    atomic = override == "atomic"
                    return TypeRef(inline=Atom(map=MapAtom(m.fields, m.element, atomic)))
            return TypeRef(schema.ref)
        if kind is SchemaKind.ANY:
            return TypeRef(UNTYPED_DEDUCED)
        if kind is SchemaKind.ARRAY:
            return TypeRef(inline=Atom(list=self._list(schema, holder, prop)))
        if kind is SchemaKind.MAP:
            element = self._element(schema.items, holder, prop)
            atomic = getattr(schema, "map_type", None) == "atomic"
            return TypeRef(inline=Atom(map=MapAtom({}, element, atomic)))
        return TypeRef(inline=Atom(scalar=_SCALARS.get(kind, "untyped")))

    def _element(self, items: Schema | None, holder: str, prop: str) -> TypeRef:
        if items is None:
            return TypeRef(UNTYPED_ATOMIC)
        return self._ref(items, holder, prop)

    def _list(self, schema: Schema, holder: str, prop: str) -> ListAtom:
        list_type, keys = list_semantics(schema)
        element = self._element(schema.items, holder, prop)
        defaults = self._key_defaults.get((holder, prop), {})
        return ListAtom(
            element=element,
            associative=list_type is not ListType.ATOMIC,
            keys=keys,
            key_defaults={k: v for k, v in defaults.items() if k in keys},
        )
