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

from kubespark.patch.compiled import GiveUp, Node, added, check, node_for
from kubespark.patch.managed import STRIPPED_METADATA
from kubespark.patch.rules import TypingRules
from kubespark.patch.schema import SchemaIndex, TypeRef
from kubespark.patch.values import JSON

__all__ = ["created_fields_v1"]

_STRIPPED_TOP = frozenset({"apiVersion", "kind"})


def _stripped(node: Node, value: JSON, optional_keys: bool) -> None:
    """A field nobody owns: it must type, and be a leaf (stripmeta.go removes the member only;
    a value with children would keep them)."""
    if isinstance(value, dict | list):
        raise GiveUp
    check(node, value, optional_keys)


def _existing(
    node: Node,
    value: JSON,
    before: Mapping[str, JSON],
    stripped: frozenset[str],
    optional_keys: bool,
) -> dict[str, Any]:
    """The node of a field the empty object has (``{}``, or metadata with its null
    creationTimestamp): not a member itself; its new keys are, ``stripped`` ones nobody's."""
    if type(value) is not dict or node.map is None or node.atomic:
        raise GiveUp
    out: dict[str, Any] = {}
    for key in sorted(value):
        child = value[key]
        child_node = node.field(key)
        if key in stripped or key in before:
            if key not in stripped or before.get(key) is not None:
                raise GiveUp
            _stripped(child_node, child, optional_keys)
            continue
        out["f:" + key] = added(child_node, child, optional_keys)
    return out


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
    root = node_for(index, ref)
    if root is None or root.map is None or root.atomic or type(new) is not dict:
        return None
    opt = rules.optional_keys
    try:
        out: dict[str, Any] = {}
        for key in sorted(new):
            value = new[key]
            node = root.field(key)
            if key in reset:
                check(node, value, opt)
                continue
            if key in _STRIPPED_TOP:
                _stripped(node, value, opt)
                continue
            if key not in zero:
                if key == "metadata":
                    return None
                out["f:" + key] = added(node, value, opt)
                continue
            before = zero[key]
            if not isinstance(before, dict):
                return None
            if value == {}:
                check(node, value, opt)
                continue  # as empty as before: nothing changed
            stripped = STRIPPED_METADATA if key == "metadata" else frozenset()
            fields = _existing(node, value, before, stripped, opt)
            if fields:
                out["f:" + key] = fields
        return out
    except GiveUp:
        return None
