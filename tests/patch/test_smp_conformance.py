"""Strategic merge patch against apimachinery's own strategicpatch test cases.

``data/smp_cases.json`` holds the cases of ``pkg/util/strategicpatch/patch_test.go``
(kubernetes-1.36.0) with the test's ``MergeItem`` schema rebuilt below from its struct tags:
applying each two-way patch to its original gives the modified object, and each three-way patch
to the live object gives the result. Sorted cases compare after ``sortMergeListsByName`` as the
Go test does; raw cases compare list order exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubespark.apisurface.model import Schema, SchemaKind, TypeDef
from kubespark.patch.strategic import SmpSchema, strategic_merge

CASES = json.loads((Path(__file__).parent / "data" / "smp_cases.json").read_text())["cases"]

_S = Schema(SchemaKind.STRING)
_ITEMS = Schema(SchemaKind.OBJECT, ref="MergeItem")


def _list(items: Schema, strategy: str | None = None, key: str | None = None) -> Schema:
    return Schema(SchemaKind.ARRAY, items=items, patch_strategy=strategy, patch_merge_key=key)


# The struct tags of MergeItem and RetainKeysMergeItem in patch_test.go.
TYPES = {
    "MergeItem": TypeDef(
        "MergeItem",
        {
            "name": _S,
            "value": _S,
            "other": _S,
            "mergingList": _list(_ITEMS, "merge", "name"),
            "nonMergingList": _list(_ITEMS),
            "mergingIntList": _list(Schema(SchemaKind.INTEGER), "merge"),
            "nonMergingIntList": _list(Schema(SchemaKind.INTEGER)),
            "mergeItemPtr": Schema(
                SchemaKind.OBJECT, ref="MergeItem", patch_strategy="merge", patch_merge_key="name"
            ),
            "simpleMap": Schema(SchemaKind.MAP, items=_S),
            "replacingItem": Schema(SchemaKind.ANY, patch_strategy="replace"),
            "jsonItem": Schema(SchemaKind.ANY),
            "retainKeysMap": Schema(
                SchemaKind.OBJECT, ref="RetainKeysMergeItem", patch_strategy="retainKeys"
            ),
            "retainKeysMergingList": _list(_ITEMS, "merge,retainKeys", "name"),
        },
    ),
    "RetainKeysMergeItem": TypeDef(
        "RetainKeysMergeItem",
        {
            "name": _S,
            "value": _S,
            "other": _S,
            "simpleMap": Schema(SchemaKind.MAP, items=_S),
            "mergingIntList": _list(Schema(SchemaKind.INTEGER), "merge"),
            "mergingList": _list(_ITEMS, "merge", "name"),
            "nonMergingList": _list(_ITEMS),
        },
    ),
}
SCHEMA = SmpSchema.of(TYPES, "MergeItem")


def _go_str(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _sorted(value: Any, typedef: str | None = "MergeItem") -> Any:
    """The test's sortMergeListsByName: merge lists sorted by merge key, scalars deduplicated."""
    if not isinstance(value, dict):
        return value
    td = TYPES.get(typedef) if typedef else None
    out: dict[str, Any] = {}
    for key, item in value.items():
        prop = td.properties.get(key) if td else None
        if key == "$retainKeys" or key.startswith("$deleteFromPrimitiveList"):
            item = sorted(item, key=_go_str)
        elif isinstance(item, dict) and prop is not None:
            item = _sorted(item, prop.ref)
        elif isinstance(item, list) and prop is not None and "merge" in (prop.patch_strategy or ""):
            element = prop.items.ref if prop.items is not None else None
            if item and all(isinstance(e, dict) for e in item):
                item = sorted(
                    (_sorted(e, element) for e in item),
                    key=lambda e: _go_str(e.get(prop.patch_merge_key or "", "")),
                )
            else:
                unique: list[Any] = []
                for e in item:
                    if not any(type(e) is type(u) and e == u for u in unique):
                        unique.append(e)
                item = sorted(unique, key=_go_str)
        out[key] = item
    return out


def _prepare(case: dict[str, Any], name: str) -> Any:
    value = case.get(name)
    if value is None:
        return {} if name in ("original", "current") else None
    return _sorted(value) if case["sorted"] else value


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_two_way_patch_applies(case: dict[str, Any]) -> None:
    original, patch = _prepare(case, "original"), _prepare(case, "twoWay")
    expected = _prepare(case, "twoWayResult") or _prepare(case, "modified")
    assert strategic_merge(original, patch, SCHEMA) == expected


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_three_way_patch_applies(case: dict[str, Any]) -> None:
    current, patch, result = _prepare(case, "current"), _prepare(case, "threeWay"), None
    result = _prepare(case, "result")
    if not result:
        pytest.skip("a conflict case without a forced result")
    assert strategic_merge(current, patch, SCHEMA) == result
