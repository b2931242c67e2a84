"""The structured-merge-diff updater against cases from structured-merge-diff's own tests.

``data/smd_cases.yaml`` carries each case's schema (structured-merge-diff's schema YAML, read
here into atoms), operations and expected object, ownership and conflicts, transcribed from
kubernetes-sigs/structured-merge-diff v6.4.2 merge/*_test.go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubespark.apisurface.model import GroupVersionKind
from kubespark.patch.fieldmanager import Conflicts, ObjectType, updater_apply, updater_update
from kubespark.patch.fieldpath import path_string
from kubespark.patch.managed import VersionedSet
from kubespark.patch.rules import TypingRules
from kubespark.patch.schema import Atom, ListAtom, MapAtom, SchemaIndex, TypeRef
from kubespark.patch.values import MISSING

DOC = yaml.safe_load((Path(__file__).parent / "data" / "smd_cases.yaml").read_text())
RULES = TypingRules(ignore_status=False, subresource_entries=False)


def _ref(raw: dict[str, Any]) -> TypeRef:
    if "namedType" in raw:
        return TypeRef(raw["namedType"])
    return TypeRef(inline=_atom(raw))


def _atom(raw: dict[str, Any]) -> Atom:
    if "scalar" in raw:
        return Atom(scalar=raw["scalar"])
    if "list" in raw:
        spec = raw["list"]
        element = spec["elementType"]
        defaults = {
            f["name"]: f["default"]
            for f in element.get("map", {}).get("fields", [])
            if "default" in f
        }
        return Atom(
            list=ListAtom(
                element=_ref(element),
                associative=spec.get("elementRelationship") == "associative",
                keys=tuple(spec.get("keys", ())),
                key_defaults=defaults,
            )
        )
    spec = raw["map"]
    return Atom(
        map=MapAtom(
            fields={f["name"]: _ref(f["type"]) for f in spec.get("fields", [])},
            element=_ref(spec["elementType"]) if "elementType" in spec else TypeRef(),
            atomic=spec.get("elementRelationship") == "atomic",
        )
    )


def _schema(name: str) -> tuple[SchemaIndex, str]:
    types = yaml.safe_load(DOC["schemas"][name])["types"]
    atoms = {t["name"]: _atom(t) for t in types}
    return SchemaIndex.from_atoms(atoms), types[0]["name"]


def _paths(versioned: VersionedSet) -> set[str]:
    return {path_string(p) for p in versioned.fields.paths()}


@pytest.mark.parametrize("case", DOC["cases"], ids=[c["name"] for c in DOC["cases"]])
def test_structured_merge_diff_case(case: dict[str, Any]) -> None:
    index, root = _schema(case["schema"])
    live: Any = None  # the fixture starts from FromUnstructured(nil)
    managers: dict[str, VersionedSet] = {}
    for op in case["ops"]:
        kind = next(k for k in ("apply", "force-apply", "update") if k in op)
        ot = ObjectType(index, root, GroupVersionKind("", op["version"], "T"), RULES)
        if kind == "update":
            managers = updater_update(ot, live, op["object"], managers, op[kind])
            live = op["object"]
            continue
        try:
            new, managers = updater_apply(
                ot, live, op["object"], managers, op[kind], force=kind == "force-apply"
            )
        except Conflicts as conflicts:
            found = sorted((c.manager, path_string(c.path)) for c in conflicts.conflicts)
            assert found == sorted(tuple(c) for c in op["conflicts"])
            continue
        assert "conflicts" not in op, "expected conflicts"
        if new is not MISSING:
            live = new
    assert live == case["object"]
    expected = {m: (e["version"], set(e["paths"])) for m, e in case["managed"].items()}
    assert {m: (vs.api_version, _paths(vs)) for m, vs in managers.items()} == expected
