"""Strategic merge patch (``application/strategic-merge-patch+json``), driven by the schema.

Owns the server side of ``k8s.io/apimachinery/pkg/util/strategicpatch``
(``StrategicMergeMapPatch``): maps merge key by key (``null`` deletes); lists follow their
field's patch strategy from the API surface -- ``merge`` lists of objects merge by their merge
key (``containers`` by ``name``), ``merge`` lists of scalars union, anything else is replaced;
``replace`` maps are replaced. The directives: ``$patch: replace | delete`` (on maps and list
elements; ``merge`` is refused), ``$retainKeys`` (clear what the list does not name),
``$deleteFromPrimitiveList/<field>`` and ``$setElementOrder/<field>`` (the order kubectl asks
for), with the library's errors. Resulting order follows the library: patch order, then live
order, interleaved.

How the server answers each error (the same in every release kubespark models, so a constant
here rather than a fact in a data file): ``interpretStrategicMergePatchError`` in
k8s.io/apiserver ``pkg/endpoints/handlers/patch.go`` makes the format errors of
``pkg/util/mergepatch/errors.go`` (bad JSON document, primitive list, retainKeys,
setElementOrder) a 400 BadRequest, lists of lists a 422 whose text is the generic "the server
rejected our request"; every other error (unknown ``$patch`` values, ``merge`` on a list, a
missing merge key, a wrong argument type) reaches the handler as a plain Go error: 500, no
reason, its text formatted with Go's verbs (``%s`` of a non-string directive prints
``%!s(int64=5)``).

Custom resources have no strategic metadata: the handler refuses the content type (415) before
this module is reached (see :func:`kubespark.patch.options.accepted_patch_types`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kubespark.apisurface.model import Schema, SchemaKind, TypeDef
from kubespark.patch.values import JSON, deep_copy, go_quote, go_s, go_type_name, go_v

__all__ = ["SMPError", "SmpSchema", "strategic_merge"]

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"


class SMPError(ValueError):
    """A patch the library refuses; ``code`` is how the handler answers (400, 422 or 500)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# mergepatch errors and how interpretStrategicMergePatchError answers them.
def _bad_request(message: str) -> SMPError:
    return SMPError(400, message)


_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_SET_ORDER = "invalid patch format of setElementOrder list"
_NO_LIST_OF_LISTS = "lists of lists are not supported"


def _no_merge_key(m: Mapping[str, JSON], key: str) -> SMPError:
    return SMPError(500, f"map: {go_v(dict(m))} does not contain declared merge key: {key}")


def _bad_arg(expected: str, actual: JSON) -> SMPError:
    return SMPError(500, f"expected a {expected}, but received a {go_type_name(actual)}")


def _same(a: JSON, b: JSON) -> bool:
    """Go's ``==`` on ``interface{}`` values: same dynamic type and value."""
    return type(a) is type(b) and a == b


@dataclass(frozen=True, slots=True)
class PatchMeta:
    strategies: tuple[str, ...] = ()
    merge_key: str = ""

    def strategy(self) -> str:
        """``extractRetainKeysPatchStrategy``: the strategy besides retainKeys."""
        rest = [s for s in self.strategies if s != "retainKeys"]
        if len(self.strategies) > 2 or len(rest) > 1:
            raise SMPError(500, f"unexpected patch strategy: [{' '.join(self.strategies)}]")
        return rest[0] if rest else ""


class SmpSchema:
    """Patch metadata of a type: what ``LookupPatchMetadataForStruct/ForSlice`` answer."""

    def __init__(self, types: Mapping[str, TypeDef], typedef: TypeDef | None) -> None:
        self._types = types
        self._typedef = typedef

    @classmethod
    def of(cls, types: Mapping[str, TypeDef], type_name: str) -> SmpSchema:
        return cls(types, types.get(type_name))

    @property
    def name(self) -> str:
        return self._typedef.name.rsplit(".", 1)[-1] if self._typedef else "map"

    def lookup(self, key: str) -> tuple[SmpSchema, PatchMeta]:
        if self._typedef is None:
            return SmpSchema(self._types, None), PatchMeta()
        prop = self._typedef.properties.get(key)
        if prop is None:
            if self._typedef.preserve_unknown_fields:
                return SmpSchema(self._types, None), PatchMeta()
            raise SMPError(
                500,
                f"unable to find api field in struct {self.name} for the json field "
                f"{go_quote(key)}",
            )
        strategies = tuple(s for s in (prop.patch_strategy or "").split(",") if s)
        meta = PatchMeta(strategies, prop.patch_merge_key or "")
        return SmpSchema(self._types, self._sub(prop)), meta

    def _sub(self, prop: Schema) -> TypeDef | None:
        target: Schema | None = prop
        while target is not None and target.kind in (SchemaKind.ARRAY, SchemaKind.MAP):
            target = target.items
        if target is not None and target.kind is SchemaKind.OBJECT and target.ref:
            return self._types.get(target.ref)
        return None


def strategic_merge(original: JSON, patch: JSON, schema: SmpSchema) -> dict[str, JSON]:
    """``original`` with ``patch`` applied (neither is modified)."""
    if not isinstance(patch, dict):
        raise SMPError(400, "invalid JSON document")
    base = deep_copy(original) if isinstance(original, dict) else {}
    return _merge_map(base, deep_copy(patch), schema)


def _handle_directive(directive: JSON, patch: dict[str, JSON]) -> dict[str, JSON]:
    if directive == "replace":
        patch.pop(DIRECTIVE, None)
        return patch
    if directive == "delete":
        return {}
    raise SMPError(500, f"unknown patch type: {go_s(directive)} in map: {go_v(patch)}")


def _retain_keys(original: dict[str, JSON], patch: dict[str, JSON]) -> None:
    if RETAIN_KEYS not in patch:
        return
    keys = patch.pop(RETAIN_KEYS)
    if not isinstance(keys, list):
        raise _bad_request(_BAD_RETAIN_KEYS)
    keep = {k for k in keys if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in keep:
            raise _bad_request(_BAD_RETAIN_KEYS)
    for key in list(original):
        if key not in keep:
            del original[key]


def _extract_key(text: str, prefix: str) -> str:
    head, sep, rest = text.partition("/")
    if not sep or head != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST:
            raise _bad_request(_BAD_PRIMITIVE_LIST)
        raise _bad_request(_BAD_SET_ORDER)
    return rest


def _remove_directives(value: JSON) -> tuple[JSON, bool]:
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        for key in list(value):
            child, keep = _remove_directives(value[key])
            if keep:
                value[key] = child
            else:
                del value[key]
        return value, True
    if isinstance(value, list):
        out = []
        for item in value:
            child, keep = _remove_directives(item)
            if keep:
                out.append(child)
        return out, True
    return value, True


def _discard_nulls(value: JSON) -> None:
    if isinstance(value, dict):
        for key in list(value):
            if value[key] is None:
                del value[key]
            else:
                _discard_nulls(value[key])
    elif isinstance(value, list):
        for item in value:
            _discard_nulls(item)


def _merge_map(
    original: dict[str, JSON], patch: dict[str, JSON], schema: SmpSchema
) -> dict[str, JSON]:
    if DIRECTIVE in patch:
        return _handle_directive(patch[DIRECTIVE], patch)
    _retain_keys(original, patch)
    _merge_element_orders(original, patch, schema)
    for key, patch_value in list(patch.items()):
        is_delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if is_delete_list:
            key = _extract_key(key, DELETE_FROM_PRIMITIVE_LIST)
        if patch_value is None:
            original.pop(key, None)
            continue
        if key not in original:
            if not is_delete_list:
                _discard_nulls(patch_value)
                _set_without_directives(original, key, patch_value)
            continue
        current = original[key]
        if type(current) is not type(patch_value):
            if not is_delete_list:
                _discard_nulls(patch_value)
                _set_without_directives(original, key, patch_value)
            continue
        if isinstance(current, dict):
            sub, meta = schema.lookup(key)
            if meta.strategy() != "replace":
                original[key] = _merge_map(current, patch_value, sub)
            else:
                original[key] = patch_value
        elif isinstance(current, list):
            sub, meta = schema.lookup(key)
            strategy = meta.strategy()
            if strategy == "merge" or is_delete_list:
                original[key] = _merge_slice(
                    current, patch_value, sub, meta.merge_key, is_delete_list
                )
            else:
                original[key] = patch_value
        else:
            _set_without_directives(original, key, patch_value)
    return original


def _set_without_directives(target: dict[str, JSON], key: str, value: JSON) -> None:
    cleaned, keep = _remove_directives(value)
    if keep:
        target[key] = cleaned
    else:
        target.pop(key, None)


def _merge_element_orders(
    original: dict[str, JSON], patch: dict[str, JSON], schema: SmpSchema
) -> None:
    """``mergePatchIntoOriginal``: lists named by ``$setElementOrder/<field>``."""
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _bad_arg("[]interface {}", order)
        field = _extract_key(key, SET_ELEMENT_ORDER)
        original_list = original.get(field)
        patch_list = patch.get(field)
        if field in original and not isinstance(original_list, list):
            raise _bad_arg("[]interface {}", original_list)
        if field in patch and not isinstance(patch_list, list):
            raise _bad_arg("[]interface {}", patch_list)
        sub, meta = schema.lookup(field)
        strategy = meta.strategy()
        _validate_order(patch_list or [], order, meta.merge_key)
        if isinstance(original_list, list) and isinstance(patch_list, list):
            if strategy == "merge":
                merged = _merge_slice(original_list, patch_list, sub, meta.merge_key, False)
            else:
                merged = list(patch_list)
        elif isinstance(original_list, list):
            merged = list(original_list)
        elif isinstance(patch_list, list):
            cleaned, _ = _remove_directives(patch_list)
            merged = list(cleaned)
        else:
            continue
        if meta.merge_key:
            patch_items, server_only = _partition_maps(merged, order, meta.merge_key)
        else:
            patch_items, server_only = _partition_primitives(merged, order)
        kind = _element_kind(original_list or [], patch_list or [])
        original[field] = _normalize_order(
            patch_items, server_only, order, original_list or [], meta.merge_key, kind
        )
        patch.pop(field, None)


def _validate_order(patch_list: list[JSON], order: list[JSON], merge_key: str) -> None:
    if not order or not patch_list:
        return
    non_delete = patch_list
    if merge_key:
        non_delete, _ = _extract_deletes(patch_list)
    pi = oi = 0
    while pi < len(non_delete) and oi < len(order):
        item = non_delete[pi]
        if isinstance(item, dict) and DIRECTIVE in item:
            pi += 1
            continue
        if _merge_key_equal(item, order[oi], merge_key):
            pi += 1
        oi += 1
    if pi < len(non_delete) and oi >= len(order):
        raise SMPError(
            500,
            f"The order in patch list:\n{go_v(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{go_v(order)}\n",
        )


def _merge_key_equal(left: JSON, right: JSON, merge_key: str) -> bool:
    if not merge_key:
        return _same(left, right)
    if not isinstance(left, dict):
        raise _bad_arg("map[string]interface {}", left)
    if not isinstance(right, dict):
        raise _bad_arg("map[string]interface {}", right)
    if merge_key not in left:
        raise _no_merge_key(left, merge_key)
    if merge_key not in right:
        raise _no_merge_key(right, merge_key)
    return _same(left[merge_key], right[merge_key])


def _extract_deletes(items: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    keep: list[JSON] = []
    delete: list[JSON] = []
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg("map[string]interface {}", item)
        (delete if item.get(DIRECTIVE) == "delete" else keep).append(item)
    return keep, delete


def _element_kind(*lists: list[JSON]) -> str:
    """``sliceElementType``: one element type across the lists; "map" or "scalar"."""
    previous: type | None = None
    for items in lists:
        for item in items:
            current = type(item)
            if previous is None:
                if isinstance(item, list):
                    raise SMPError(422, _NO_LIST_OF_LISTS)
                previous = current
            elif previous is not current:
                joined = " ".join(go_v(list(x)) for x in lists)
                raise SMPError(500, f"list element types are not identical: [{joined}]")
    if previous is None:
        raise SMPError(500, "no elements in any of the given slices")
    return "map" if previous is dict else "scalar"


class _GoSlice:
    """A Go slice over a shared backing list: deletes and appends within capacity write into
    it, as ``deleteMatchingEntries`` and ``append`` do in the library -- which the library's
    ``$setElementOrder`` handling then reads back through the caller's longer view."""

    __slots__ = ("arr", "length", "owned")

    def __init__(self, arr: list[JSON], length: int | None = None) -> None:
        self.arr = arr
        self.length = len(arr) if length is None else length
        self.owned = False  # True once appends moved to a backing array no caller can see

    def items(self) -> list[JSON]:
        return self.arr[: self.length]

    def delete(self, index: int) -> None:
        # append(s[:k], s[k+1:]...): shift left in place; the backing keeps its last element.
        self.arr[index : self.length - 1] = self.arr[index + 1 : self.length]
        self.length -= 1

    def append(self, value: JSON) -> None:
        if self.length < len(self.arr):
            self.arr[self.length] = value  # within capacity: the caller's view sees it
        elif self.owned:
            self.arr.append(value)  # amortised, as Go's growth is: nobody else sees this array
        else:
            self.arr = [*self.arr[: self.length], value]  # a new backing array, ours alone
            self.owned = True
        self.length += 1


def _merge_slice(
    original: list[JSON],
    patch: list[JSON],
    schema: SmpSchema,
    merge_key: str,
    is_delete_list: bool,
) -> list[JSON]:
    """``mergeSlice``; ``original`` is the caller's list and may be written into, as in Go."""
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    if kind != "map":
        if is_delete_list:
            return [v for v in original if not any(_same(v, d) for d in patch)]
        merged = _deduplicate(original + patch)
        server_order = original
    else:
        if not merge_key:
            raise SMPError(500, f"cannot merge lists without merge key for {schema.name}")
        live, patch = _special_elements(_GoSlice(original), patch, merge_key)
        server_order = live.items()
        merged = _merge_without_special(live, patch, merge_key, schema)
    if not merge_key:
        patch_items, server_only = _partition_primitives(merged, patch)
    else:
        patch_items, server_only = _partition_maps(merged, patch, merge_key)
    return _normalize_order(patch_items, server_only, patch, server_order, merge_key, kind)


def _deduplicate(items: list[JSON]) -> list[JSON]:
    # deduplicateScalars, including its habit of moving the last element into the hole.
    tokens = [_token(v) for v in items]
    if None not in tokens and len(set(tokens)) == len(tokens):
        return list(items)  # nothing repeats: the library's loop moves nothing
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _same(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _special_elements(
    original: _GoSlice, patch: list[JSON], merge_key: str
) -> tuple[_GoSlice, list[JSON]]:
    plain: list[JSON] = []
    replace = False
    for item in patch:
        assert isinstance(item, dict)
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            value = item[merge_key]
            while (index := _find(original.items(), merge_key, value)) >= 0:
                original.delete(index)
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise SMPError(500, "merging lists cannot yet be specified in the patch")
        else:
            raise SMPError(500, f"unknown patch type: {go_s(directive)} in map: {go_v(item)}")
    if replace:
        return _GoSlice(plain), []
    return original, plain


_MISSING_KEY = object()  # what an element without the merge key is looked up by


def _token(value: JSON) -> tuple[type, JSON] | None:
    """A dict key with ``_same``'s meaning (type identity and equality) for a scalar; None for a
    map or a list, whose Python equality is looser than Go's (``{"a": True} == {"a": 1}``)."""
    return None if isinstance(value, dict | list) else (type(value), value)


class _Positions:
    """Where each merge-key value (or scalar) first stands in a list: the library's linear
    scans (``findMapInSliceBasedOnKeyValue``, the index lookups its ordering sorts make) as one
    dict, so a patch of n elements costs about n steps rather than n² (a 4,000-container patch
    held the emulator's loop for 15 s). Built only when every key is a scalar; otherwise the
    callers scan as the library does, errors and all."""

    __slots__ = ("first",)

    def __init__(self, first: dict[object, int]) -> None:
        self.first = first

    @classmethod
    def of(cls, items: list[JSON], merge_key: str, kind: str) -> _Positions | None:
        first: dict[object, int] = {}
        for i, item in enumerate(items):
            if kind == "map":
                if not isinstance(item, dict):
                    return None  # the scan raises on it: let it
                value = item.get(merge_key, _MISSING_KEY) if merge_key in item else _MISSING_KEY
                token: object = _MISSING_KEY if value is _MISSING_KEY else _token(value)
            else:
                token = _token(item)
            if token is None:
                return None
            first.setdefault(token, i)
        return cls(first)

    def find(self, value: JSON) -> int:
        return self.first.get(_token(value), -1)

    def add(self, value: JSON, index: int) -> None:
        self.first.setdefault(_token(value), index)


def _find(items: list[JSON], key: str, value: JSON) -> int:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise SMPError(500, f"value for key {index} is not a map")
        if key in item and _same(item[key], value):
            return index
    return -1


def _merge_without_special(
    original: _GoSlice, patch: list[JSON], merge_key: str, schema: SmpSchema
) -> list[JSON]:
    positions = _Positions.of(original.items(), merge_key, "map")
    for item in patch:
        assert isinstance(item, dict)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        value = item[merge_key]
        if positions is not None and _token(value) is not None:
            index = positions.find(value)
        else:
            index = _find(original.items(), merge_key, value)
        if index >= 0:
            current = original.arr[index]
            assert isinstance(current, dict)
            original.arr[index] = _merge_map(current, item, schema)
        else:
            original.append(item)
            if positions is not None:
                positions.add(value, original.length - 1)
    return original.items()


def _partition_primitives(items: list[JSON], by: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    index_in_by = _indexer(by, "", "scalar")
    inside = [v for v in items if index_in_by(v) >= 0]
    outside = [v for v in items if index_in_by(v) < 0]
    return inside, outside


def _partition_maps(
    items: list[JSON], by: list[JSON], merge_key: str
) -> tuple[list[JSON], list[JSON]]:
    inside: list[JSON] = []
    outside: list[JSON] = []
    positions = _Positions.of(by, merge_key, "map")
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg("map[string]interface {}", item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        value = item[merge_key]
        if positions is not None and _token(value) is not None:
            found = positions.find(value) >= 0
        else:
            found = _find(by, merge_key, value) >= 0
        (inside if found else outside).append(item)
    return inside, outside


def _indexer(items: list[JSON], merge_key: str, kind: str) -> Callable[[JSON], int]:
    """Where a value's key first stands in ``items`` (-1: nowhere), as the library's ``index``
    helper finds it; one dict lookup per call when every key is a scalar, else its scan."""

    def key_of(item: JSON) -> JSON:
        if kind == "map":
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    def scan(value: JSON) -> int:
        target = key_of(value)
        for i, item in enumerate(items):
            if _same(key_of(item), target):
                return i
        return -1

    first: dict[object, int] = {}
    for i, item in enumerate(items):
        token = _token(key_of(item))
        if token is None:
            return scan
        first.setdefault(token, i)

    def lookup(value: JSON) -> int:
        token = _token(key_of(value))
        return scan(value) if token is None else first.get(token, -1)

    return lookup


def _normalize_order(
    patch_items: list[JSON],
    server_only: list[JSON],
    patch_order: list[JSON],
    server_order: list[JSON],
    merge_key: str,
    kind: str,
) -> list[JSON]:
    patch_items = _sort_by(patch_items, patch_order, merge_key, kind)
    server_only = _sort_by(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patch_items, server_order, merge_key, kind)


def _sort_by(items: list[JSON], order: list[JSON], merge_key: str, kind: str) -> list[JSON]:
    deletes: list[JSON] = []
    if kind == "map":
        for item in [*items, *order]:
            if not isinstance(item, dict):
                raise _bad_arg("map[string]interface {}", item)
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
        items, deletes = _extract_deletes(items)
    # Every item is in ``order`` here (partitioned by it), so a stable sort by position is
    # what Go's sort.SliceStable with the library's comparator produces.
    index_in_order = _indexer(order, merge_key, kind)
    positions = [index_in_order(item) for item in items]
    ranked = sorted(range(len(items)), key=lambda i: positions[i] if positions[i] >= 0 else -1)
    return [items[i] for i in ranked] + deletes


def _merge_sorted(
    left: list[JSON], right: list[JSON], server_order: list[JSON], merge_key: str, kind: str
) -> list[JSON]:
    """``mergeSortedSlice``: server-only items slotted between patch items by live order."""
    out: list[JSON] = []
    index_in_server = _indexer(server_order, merge_key, kind)
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = index_in_server(left[i])
            ri = index_in_server(right[j])
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out
