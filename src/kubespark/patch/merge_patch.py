"""JSON merge patch (RFC 7386, ``application/merge-patch+json``) as the API server applies it.

Owns the merge of the json-patch library Kubernetes uses (evanphx/json-patch v4 ``MergePatch``):
an object patch merges member by member, ``null`` deletes, any other value replaces (lists
included); nulls inside values that replace are pruned from objects (not from lists). A patch
that is not an object replaces the document (an array) or is refused ("Invalid JSON Patch").
:func:`create_merge_patch` is the inverse: the patch that turns one document into another.
"""

from __future__ import annotations

from kubespark.patch.decode import BodyError, decode_json
from kubespark.patch.values import JSON, deep_copy, values_equal

__all__ = [
    "INVALID_JSON_PATCH",
    "apply_merge_patch",
    "create_merge_patch",
    "decode_merge_patch",
]

INVALID_JSON_PATCH = "Invalid JSON Patch"  # jsonpatch.ErrBadJSONPatch


def decode_merge_patch(body: bytes | str) -> JSON:
    """The patch value; :class:`BodyError` "Invalid JSON Patch" as ``MergePatch`` refuses it."""
    try:
        value = decode_json(body)
    except BodyError as exc:
        raise BodyError(INVALID_JSON_PATCH) from exc
    if value is None or not isinstance(value, dict | list):
        raise BodyError(INVALID_JSON_PATCH)
    return value


def _prune_nulls(value: JSON) -> JSON:
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) if v is not None else None for v in value]
    return value


def _merge_docs(doc: dict[str, JSON], patch: dict[str, JSON]) -> None:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
            continue
        current = doc.get(key)
        if current is None:
            doc[key] = _prune_nulls(deep_copy(value))
        else:
            doc[key] = _merge(current, value)


def _merge(current: JSON, patch: JSON) -> JSON:
    if not isinstance(current, dict):
        return _prune_nulls(deep_copy(patch))
    if not isinstance(patch, dict):
        return deep_copy(patch)
    _merge_docs(current, patch)
    return current


def apply_merge_patch(doc: JSON, patch: JSON) -> JSON:
    """``doc`` with ``patch`` merged (``doc`` is not modified)."""
    if isinstance(patch, list):
        return _prune_nulls(deep_copy(patch))
    if not isinstance(doc, dict):
        return _prune_nulls(deep_copy(patch))
    out = deep_copy(doc)
    _merge_docs(out, patch)
    return out


def create_merge_patch(original: JSON, modified: JSON) -> JSON:
    """The merge patch that turns ``original`` into ``modified`` (objects; others replace)."""
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return deep_copy(modified)
    patch: dict[str, JSON] = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, value in modified.items():
        if key not in original:
            patch[key] = deep_copy(value)
            continue
        before = original[key]
        if isinstance(before, dict) and isinstance(value, dict):
            sub = create_merge_patch(before, value)
            if sub:
                patch[key] = sub
        elif not values_equal(before, value) or type(before) is not type(value):
            patch[key] = deep_copy(value)
    return patch
