"""Properties that hold for every input, checked with hypothesis.

- a merge patch made from the difference of two documents turns the first into the second;
- applying the same configuration twice changes nothing (the second apply is a no-op);
- an applier owns exactly the fields of its configuration, minus metadata nobody owns;
- field sets survive their FieldsV1 form, and set algebra behaves;
- a strategic merge patch of plain maps is a merge patch;
- a JSON patch that adds then removes a member is the identity.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubespark.apisurface import load_surface
from kubespark.patch import PatchTarget, apply_patch
from kubespark.patch.fieldpath import FieldSet, PathElement
from kubespark.patch.json_patch import apply_json_patch
from kubespark.patch.merge_patch import apply_merge_patch, create_merge_patch
from kubespark.patch.schema import SchemaIndex, TypeRef
from kubespark.patch.strategic import SmpSchema, strategic_merge
from kubespark.patch.typed import to_field_set

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SURFACE = load_surface("1.25")
DEPLOYMENTS = SURFACE.resource("apps/v1", "Deployment")
assert DEPLOYMENTS is not None

keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
scalars = st.one_of(
    st.integers(-5, 5), st.text(alphabet="xyz", max_size=3), st.booleans(), st.floats(0.5, 2.5)
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)
objects = st.dictionaries(keys, documents, max_size=5)


@given(objects, objects)
def test_merge_patch_of_a_difference_yields_the_target(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    assert apply_merge_patch(a, create_merge_patch(a, b)) == b


label_keys = st.text(alphabet="abcde", min_size=1, max_size=4)
label_values = st.text(alphabet="xyz0", max_size=4)
names = st.text(alphabet="abcd", min_size=1, max_size=3)


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    containers = []
    for name in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
        container: dict[str, Any] = {"name": name, "image": draw(label_values) or "busybox"}
        env = draw(st.lists(names, max_size=2, unique=True))
        if env:
            container["env"] = [{"name": n, "value": draw(label_values)} for n in env]
        ports = draw(st.lists(st.integers(1, 4), max_size=2, unique=True))
        if ports:
            container["ports"] = [{"containerPort": p} for p in ports]
        containers.append(container)
    labels = draw(st.dictionaries(label_keys, label_values, min_size=1, max_size=3))
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
    }
    if draw(st.booleans()):
        spec["replicas"] = draw(st.integers(0, 5))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": labels},
        "spec": spec,
    }


def _apply(live: dict[str, Any] | None, body: dict[str, Any], manager: str) -> Any:
    assert DEPLOYMENTS is not None
    return apply_patch(
        SURFACE,
        PatchTarget.for_resource(DEPLOYMENTS, "web", "default"),
        live,
        json.dumps(body),
        content_type="application/apply-patch+yaml",
        field_manager=manager,
        now=NOW,
    )


@given(deployments(), deployments())
def test_applying_twice_changes_nothing(first: dict[str, Any], second: dict[str, Any]) -> None:
    created = _apply(None, first, "ci").object
    created["metadata"]["uid"] = "u1"
    updated = _apply(created, second, "ci")
    again = _apply(updated.object, second, "ci")
    assert not again.changed
    assert again.object == updated.object


@given(deployments(), deployments())
def test_an_applier_owns_exactly_its_configuration(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    created = _apply(None, first, "ci").object
    created["metadata"]["uid"] = "u1"
    result = _apply(created, second, "ci").object
    [entry] = result["metadata"]["managedFields"]
    owned = FieldSet.from_fields_v1(entry["fieldsV1"])
    index = SchemaIndex.for_surface(SURFACE)
    expected = to_field_set(second, TypeRef(DEPLOYMENTS.type_name), index)
    meta = PathElement.field("metadata")
    for stripped in ("apiVersion", "kind", "metadata"):
        expected.members.discard(PathElement.field(stripped))
    expected.children[meta].members -= {PathElement.field("name"), PathElement.field("namespace")}
    assert owned == expected
    # What it no longer applies is gone from the object (nobody else owns it).
    assert result["spec"].get("replicas") == second["spec"].get("replicas")
    assert (
        result["spec"]["template"]["spec"]["containers"]
        == second["spec"]["template"]["spec"]["containers"]
    )


paths = st.lists(
    st.one_of(
        keys.map(PathElement.field),
        st.integers(0, 3).map(PathElement.of_index),
        label_values.map(lambda v: PathElement.of_key({"name": v})),
        st.integers(0, 3).map(PathElement.of_value),
    ),
    min_size=1,
    max_size=4,
).map(tuple)
field_sets = st.lists(paths, max_size=8).map(lambda ps: FieldSet.of(*ps))


@given(field_sets)
def test_field_sets_survive_fields_v1(fields: FieldSet) -> None:
    assert FieldSet.from_fields_v1(json.loads(json.dumps(fields.to_fields_v1()))) == fields


@given(field_sets, field_sets)
def test_field_set_algebra(a: FieldSet, b: FieldSet) -> None:
    union, inter = a.union(b), a.intersection(b)
    assert set(inter.paths()) == set(a.paths()) & set(b.paths())
    assert set(union.paths()) == set(a.paths()) | set(b.paths())
    assert set(a.difference(b).paths()) == set(a.paths()) - set(b.paths())


string_maps = st.dictionaries(label_keys, st.one_of(label_values, st.none()), max_size=4)


@given(
    st.dictionaries(label_keys, label_values, max_size=4),
    string_maps,
    st.dictionaries(label_keys, label_values, max_size=3),
    string_maps,
)
def test_strategic_merge_of_plain_maps_is_a_merge_patch(
    labels: dict[str, str],
    labels_patch: dict[str, str | None],
    data: dict[str, str],
    data_patch: dict[str, str | None],
) -> None:
    original = {"metadata": {"name": "c", "labels": labels}, "data": data}
    patch = {"metadata": {"labels": labels_patch}, "data": data_patch}
    schema = SmpSchema.of(SURFACE.types, "io.k8s.api.core.v1.ConfigMap")
    assert strategic_merge(original, patch, schema) == apply_merge_patch(original, patch)


@given(objects, keys, documents)
def test_json_patch_add_then_remove_is_identity(doc: dict[str, Any], key: str, value: Any) -> None:
    if key in doc:
        return
    ops = [{"op": "add", "path": f"/{key}", "value": value}, {"op": "remove", "path": f"/{key}"}]
    assert apply_json_patch(doc, ops) == doc
