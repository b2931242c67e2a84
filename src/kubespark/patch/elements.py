"""How an item of a set or list-map is named in a field path, and why one cannot be.

Owns :func:`element_path` (structured-merge-diff's ``keyedAssociativeListItemToPathElement``
and its set counterpart: an element's key fields, list-map keys defaulted where the version
defaults them, or its value) with :class:`KeyError_` for an element that cannot be named, and
:class:`TypingErrorKind`, the kinds of reasons a value does not type. Shared by the typed walkers
(:mod:`kubespark.patch.typed`) and the compiled ones (:mod:`kubespark.patch.compiled`).
"""

from __future__ import annotations

from enum import Enum

from kubespark.patch.fieldpath import PathElement
from kubespark.patch.schema import ListAtom
from kubespark.patch.values import JSON

__all__ = ["KeyError_", "TypingErrorKind", "element_path"]


class TypingErrorKind(Enum):
    UNKNOWN_FIELD = "unknown-field"  # the schema has no such field
    OMITTED_KEY = "omitted-key"  # a list-map element lacks a key that has no default
    DUPLICATE_KEY = "duplicate-key"  # two list-map elements share a key
    BAD_ELEMENT = "bad-element"  # a list element that cannot be keyed (null, not an object)
    WRONG_TYPE = "wrong-type"  # a value of the wrong kind (string for a list, ...)
    SCHEMA = "schema"  # the schema itself cannot type the value


class KeyError_(Exception):
    """A list element whose path element cannot be built."""

    def __init__(self, message: str, kind: TypingErrorKind, name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.name = name


def element_path(list_atom: ListAtom, child: JSON, optional_keys: bool = False) -> PathElement:
    """The path element of a list item: its key, its value (sets) -- or :class:`KeyError_`.

    ``optional_keys`` is structured-merge-diff v6.3's rule (Kubernetes 1.34): an element may
    omit some keys; only one with none of them (and no defaults) fails.
    """
    if not list_atom.associative:
        raise KeyError_("invalid indexing of non-associative list", TypingErrorKind.SCHEMA)
    if list_atom.keys:
        if child is None:
            raise KeyError_(
                "associative list with keys may not have a null element",
                TypingErrorKind.BAD_ELEMENT,
            )
        if not isinstance(child, dict):
            raise KeyError_(
                "associative list with keys may not have non-map elements",
                TypingErrorKind.BAD_ELEMENT,
            )
        fields: dict[str, JSON] = {}
        for key in list_atom.keys:
            if key in child:
                fields[key] = child[key]
            elif key in list_atom.key_defaults:
                fields[key] = list_atom.key_defaults[key]
            elif not optional_keys:
                raise KeyError_("", TypingErrorKind.OMITTED_KEY, key)
        if not fields:
            raise KeyError_("", TypingErrorKind.OMITTED_KEY, list_atom.keys[0])
        return PathElement.of_key(fields)
    if isinstance(child, dict):
        raise KeyError_(
            "associative list without keys has an element that's a map type",
            TypingErrorKind.BAD_ELEMENT,
        )
    if isinstance(child, list):
        raise KeyError_(
            "not supported: associative list with lists as elements", TypingErrorKind.BAD_ELEMENT
        )
    if child is None:
        raise KeyError_(
            "associative list without keys has an element that's an explicit null",
            TypingErrorKind.BAD_ELEMENT,
        )
    return PathElement.of_value(child)
