"""JSON patch (RFC 6902, ``application/json-patch+json``) as the API server applies it.

Owns the semantics of the json-patch library Kubernetes uses (evanphx/json-patch v4): ``add``
needs an existing parent (``-`` appends; negative indexes count from the end), ``remove`` needs
the member, ``replace`` of an absent object member adds it (a v4 quirk servers keep), ``move``,
``copy`` and ``test`` (JSON equality, numbers by value). At most 10,000 operations
(``maxJSONPatchOperations``). The library's reason for a failure is kept in
:class:`JSONPatchError` for diagnosis; a server answers every such failure with the same
generic 422 (see :func:`kubespark.patch.responses.json_patch_failed`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from kubespark.patch.decode import BodyError, decode_json
from kubespark.patch.values import JSON, deep_copy, json_kind, values_equal

__all__ = ["MAX_OPERATIONS", "JSONPatchError", "apply_json_patch", "decode_json_patch"]

MAX_OPERATIONS = 10000  # patch.go maxJSONPatchOperations


class JSONPatchError(ValueError):
    """An operation that does not apply; the text is the json-patch library's."""


def decode_json_patch(body: bytes | str) -> list[dict[str, JSON]]:
    """``jsonpatch.DecodePatch``: a list of operations, or :class:`BodyError` (a 400)."""
    value = decode_json(body)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BodyError(
            f"json: cannot unmarshal {_go_kind(value)} into Go value of type jsonpatch.Patch"
        )
    for op in value:
        if op is not None and not isinstance(op, dict):
            raise BodyError(
                f"json: cannot unmarshal {_go_kind(op)} into Go value of type jsonpatch.Operation"
            )
    return [op if isinstance(op, dict) else {} for op in value]


# evanphx/json-patch's names of a node's kind (null counts as a number there, as it did here).
_GO_KINDS = {"map": "object", "list": "array", "bool": "bool", "str": "string"}


def _go_kind(value: JSON) -> str:
    return _GO_KINDS.get(json_kind(value), "number")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _string(op: dict[str, JSON], name: str) -> str | None:
    value = op.get(name)
    return value if isinstance(value, str) else None


def _find(doc: JSON, path: str) -> tuple[Any, str] | None:
    """``findObject``: the container holding the last token, and that token."""
    parts = path.split("/")
    if len(parts) < 2:
        return None
    node = doc
    for token in parts[1:-1]:
        key = _unescape(token)
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list):
            index = _index(key, len(node), allow_end=False)
            if index is None:
                return None
            node = node[index]
        else:
            return None
        if not isinstance(node, dict | list):
            return None
    return node, _unescape(parts[-1])


_INT = re.compile(r"^[+-]?[0-9]+$")  # what Go's strconv.Atoi accepts


def _index(token: str, length: int, *, allow_end: bool) -> int | None:
    if not _INT.match(token):
        return None
    index = int(token)
    size = length + 1 if allow_end else length
    if index < 0:
        if index < -size:
            return None
        index += size
    if index >= size:
        return None
    return index


def _add(container: Any, key: str, value: JSON, path: str) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    index = _index(key, len(container), allow_end=True)
    if index is None:
        raise JSONPatchError(f"error in add for path: '{path}': Unable to access invalid index")
    container.insert(index, value)


def _get(container: Any, key: str) -> tuple[bool, JSON]:
    if isinstance(container, dict):
        return True, container.get(key)  # an absent member reads as null, not an error (v4)
    index = _index(key, len(container), allow_end=False)
    if index is None:
        return False, None
    return True, container[index]


def _remove(container: Any, key: str, path: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise JSONPatchError(
                f"error in remove for path: '{path}': Unable to remove "
                f"nonexistent key: {key}: missing value"
            )
        del container[key]
        return
    index = _index(key, len(container), allow_end=False)
    if index is None:
        raise JSONPatchError(f"error in remove for path: '{path}': Unable to access invalid index")
    del container[index]


def _apply_one(doc: JSON, op: dict[str, JSON]) -> JSON:
    kind = _string(op, "op") or "unknown"
    path = _string(op, "path")
    if kind not in ("add", "remove", "replace", "move", "copy", "test"):
        raise JSONPatchError(f"Unexpected kind: {kind}")
    if path is None:
        raise JSONPatchError(f"{kind} operation failed to decode path")
    value = deep_copy(op.get("value"))
    if kind == "replace" and path == "":
        if not isinstance(value, dict | list):
            raise JSONPatchError("replace operation value must be object or array")
        return value
    if kind == "test" and path == "":
        if not values_equal(doc, value):
            raise JSONPatchError("testing value  failed: test failed")
        return doc
    if kind in ("move", "copy"):
        return _move_or_copy(doc, op, kind, path)
    found = _find(doc, path)
    if found is None:
        raise JSONPatchError(f'{kind} operation does not apply: doc is missing path: "{path}"')
    container, key = found
    if kind == "add":
        _add(container, key, value, path)
    elif kind == "remove":
        _remove(container, key, path)
    elif kind == "replace":
        ok, _ = _get(container, key)
        if not ok:
            raise JSONPatchError(f"replace operation does not apply: doc is missing key: {path}")
        if isinstance(container, dict):
            container[key] = value
        else:
            index = _index(key, len(container), allow_end=False)
            assert index is not None  # _get succeeded
            container[index] = value
    else:  # test
        ok, current = _get(container, key)
        if not ok or not values_equal(current, value):
            raise JSONPatchError(f"testing value {path} failed: test failed")
    return doc


def _move_or_copy(doc: JSON, op: dict[str, JSON], kind: str, path: str) -> JSON:
    source = _string(op, "from")
    if source is None:
        raise JSONPatchError(f"{kind} operation failed to decode from")
    found = _find(doc, source)
    if found is None:
        raise JSONPatchError(f"{kind} operation does not apply: doc is missing from path: {source}")
    container, key = found
    ok, value = _get(container, key)
    if not ok:
        raise JSONPatchError(f"error in {kind} for path: '{key}': Unable to access invalid index")
    if kind == "move":
        _remove(container, key, source)
    else:
        value = deep_copy(value)
    target = _find(doc, path)
    if target is None:
        raise JSONPatchError(
            f"{kind} operation does not apply: doc is missing destination path: {path}"
        )
    _add(target[0], target[1], value, path)
    return doc


def apply_json_patch(doc: JSON, operations: Sequence[dict[str, JSON]]) -> JSON:
    """``doc`` after ``operations``, all or nothing; :class:`JSONPatchError` if one fails."""
    out = deep_copy(doc)
    for op in operations:
        out = _apply_one(out, op)
    return out
