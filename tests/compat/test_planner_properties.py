"""Properties of plan_writes over the real schemas, for random valid objects of one version.

A planned write for another version never carries a field unknown to the target, and nothing the
target can hold is lost: every path of the source object that the target's schema knows is in
the planned body with the same value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typedef_strategies import kind_objects

from kubespark.apisurface import ProblemKind, check_object, load_surface
from kubespark.apisurface.model import ApiSurface, SchemaKind
from kubespark.compat import Intent, plan_writes

PAIRS = [
    ("1.21", "1.19"),
    ("1.19", "1.25"),
    ("1.29", "1.16"),
    ("1.16", "1.37"),
    ("1.33", "1.20"),
    ("1.37", "1.18"),
]
# Kinds every one of these versions serves under the same group-version.
KINDS = [
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Pod"),
    ("v1", "Secret"),
    ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
]


def _case(pair: tuple[str, str], kind: tuple[str, str]) -> st.SearchStrategy[Any]:
    source, target = (load_surface(v) for v in pair)
    objects = kind_objects(source, *kind, depth=5)
    return st.tuples(st.just(source), st.just(target), objects)


CASES = st.sampled_from(PAIRS).flatmap(
    lambda pair: st.sampled_from(KINDS).flatmap(lambda kind: _case(pair, kind))
)


def known_leaves(
    surface: ApiSurface, type_name: str | None, value: Any, path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every leaf of ``value`` whose path the surface's type knows."""
    typedef = surface.types.get(type_name) if type_name else None
    if typedef is None or typedef.preserve_unknown_fields or not isinstance(value, dict):
        yield path, value
        return
    for prop, child in value.items():
        schema = typedef.properties.get(prop)
        if schema is None:
            continue  # unknown to the target: may be dropped
        yield from _schema_leaves(surface, schema, child, (*path, prop))


def _schema_leaves(
    surface: ApiSurface, schema: Any, value: Any, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if schema.kind is SchemaKind.OBJECT:
        yield from known_leaves(surface, schema.ref, value, path)
    elif schema.kind in (SchemaKind.ARRAY, SchemaKind.MAP) and schema.items is not None:
        items = (
            enumerate(value)
            if isinstance(value, list)
            else (value.items() if isinstance(value, dict) else ())
        )
        empty = not value
        for key, item in items:
            yield from _schema_leaves(surface, schema.items, item, (*path, key))
        if empty:
            yield path, value
    else:
        yield path, value


def at(obj: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        obj = obj[part]
    return obj


@settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(CASES, st.sampled_from(list(Intent)))
def test_planned_writes_fit_the_target_and_lose_nothing_it_can_hold(
    case: tuple[ApiSurface, ApiSurface, dict[str, Any]], intent: Intent
) -> None:
    source, target, obj = case
    (write,) = plan_writes([obj], target, intent).writes
    body = write.body

    unknown = [p.path for p in check_object(target, body) if p.kind is ProblemKind.UNKNOWN_FIELD]
    assert unknown == [], f"{source.version} -> {target.version}: {unknown}"

    resource = target.resource(obj["apiVersion"], obj["kind"])
    assert resource is not None
    for path, value in known_leaves(target, resource.type_name, obj):
        assert at(body, path) == value, f"{source.version} -> {target.version}: {path} lost"

    # Every field that was dropped has a note naming it.
    noted = {n.path for n in write.notes}
    source_unknown = {
        p.path for p in check_object(target, obj) if p.kind is ProblemKind.UNKNOWN_FIELD
    }
    assert source_unknown <= noted
