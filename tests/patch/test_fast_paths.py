"""The patch engine's fast paths answer exactly as its general paths do.

A create's managedFields are computed straight from the new object
(:mod:`kubespark.patch.created`) instead of by comparing it with the empty object; whenever the
fast path answers, its object (entries, ``fieldsV1`` and the key order of both) must equal the
general path's, for every kind and version. Objects come from the real schemas of several
versions (the compat tests' TypeDef strategy), some of them broken on purpose (undeclared
fields, values of the wrong type, nulls, repeated list-map keys, empty objects) so the cases
where the fast path must give up are drawn too. Likewise the compiled typing check that lets
``validate`` skip its error-reporting walk. White-box: it calls both paths directly.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kubespark.apisurface import ApiSurface, load_surface, newest_version
from kubespark.apisurface.model import GroupVersionKind, Schema, SchemaKind, TypeDef
from kubespark.patch import DEDUCED_TYPE, PatchTarget, record_update
from kubespark.patch import fieldmanager as fm
from kubespark.patch.api import _object_type
from kubespark.patch.compiled import types_cleanly
from kubespark.patch.typed import _Validator, validate

NOW = datetime(2026, 11, 27, 6, 6, 9, tzinfo=UTC)


def _strategies() -> ModuleType:
    """tests/compat/typedef_strategies.py (tests/ are not a package)."""
    name = "typedef_strategies"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "compat" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


kind_objects = _strategies().kind_objects

# 1.16.0 and 1.17.0 type with the "invalid atom" quirk; 1.19 lacks list-map key defaults;
# 1.21 resets status; the newest has optional keys.
VERSIONS = ("1.16.0", "1.17.0", "1.19", "1.21", newest_version())
KINDS = (
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Namespace"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
)
_SURFACES = {v: load_surface(v) for v in VERSIONS}
_WRONG = st.sampled_from([None, {}, [], "x", 7, 2.5, True, {"zz": 1}, [None], [{"a": 1}]])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def _broken(draw: st.DrawFn, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with one node changed the way bad bodies differ from good ones."""
    obj = json.loads(json.dumps(obj))
    path = draw(st.sampled_from(_paths(obj)))
    node = _at(obj, path)
    how = draw(st.sampled_from(["replace", "unknown", "duplicate", "empty"]))
    if how == "unknown" and isinstance(node, dict):
        node["notAField"] = draw(_WRONG)
    elif how == "duplicate" and isinstance(node, list) and node:
        node.append(json.loads(json.dumps(node[0])))
    elif how == "empty" and isinstance(node, dict):
        node.clear()
    elif path:
        _at(obj, path[:-1])[path[-1]] = draw(_WRONG)
    return obj


def _stored(body: dict[str, Any], namespaced: bool) -> dict[str, Any]:
    """As the emulator hands a create to the field manager: identity and timestamps set."""
    if not isinstance(body.get("metadata"), dict | None):
        return body  # broken on purpose
    meta = dict(body.get("metadata") or {})
    meta.pop("managedFields", None)
    meta["uid"] = "0d3c8f0e-0000-4000-8000-000000000001"
    meta["creationTimestamp"] = "2026-11-27T06:06:09Z"
    if namespaced:
        meta["namespace"] = "default"
    return {**body, "metadata": meta}


def _both(ot: fm.ObjectType, obj: dict[str, Any], manager: str) -> tuple[Any, Any]:
    return fm._created(ot, obj, manager, NOW), fm._update(ot, None, obj, manager, NOW)


def _drawn(fast: Any, general: Any) -> None:
    """``_same`` inside a property test, which tells how often the fast path answered."""
    event("fast path answered" if fast is not None else "fast path gave up")
    _same(fast, general)


def _same(fast: Any, general: Any) -> None:
    if fast is None:
        return  # the fast path gave up: the general path decides
    assert fast == general
    assert json.dumps(fast) == json.dumps(general)  # key order too, as it goes on the wire


def _object_type_for(surface: ApiSurface, api_version: str, kind: str) -> fm.ObjectType:
    resource = surface.resource(api_version, kind)
    assert resource is not None
    return _object_type(surface, PatchTarget.for_resource(resource, "obj", "default"))


@st.composite
def _case(draw: st.DrawFn) -> tuple[str, str, str, dict[str, Any]]:
    version = draw(st.sampled_from(VERSIONS))
    api_version, kind = draw(st.sampled_from(KINDS))
    obj = draw(kind_objects(_SURFACES[version], api_version, kind, depth=3))
    if draw(st.booleans()):
        obj = draw(_broken(obj))
    return version, api_version, kind, obj


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(case=_case(), manager=st.sampled_from(["", "kubectl", "spark <&> \u00e9"]))
def test_a_create_records_what_the_general_path_records(
    case: tuple[str, str, str, dict[str, Any]], manager: str
) -> None:
    version, api_version, kind, obj = case
    surface = _SURFACES[version]
    ot = _object_type_for(surface, api_version, kind)
    resource = surface.resource(api_version, kind)
    assert resource is not None
    stored = _stored(obj, resource.namespaced) if isinstance(obj, dict) else obj
    _drawn(*_both(ot, stored, manager))


_WIDGET = TypeDef(
    "com.example.v1.Widget",
    {
        "apiVersion": Schema(SchemaKind.STRING),
        "kind": Schema(SchemaKind.STRING),
        "metadata": Schema(
            SchemaKind.OBJECT, ref="io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        ),
        "spec": Schema(SchemaKind.OBJECT, ref="io.k8s.api.core.v1.PodSpec"),
        "status": Schema(SchemaKind.OBJECT, ref="io.k8s.api.core.v1.PodStatus"),
    },
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(), version=st.sampled_from(VERSIONS), subresource=st.sampled_from(["", "status"])
)
def test_a_custom_resource_create_records_what_the_general_path_records(
    data: st.DataObject, version: str, subresource: str
) -> None:
    surface = _SURFACES[version]
    pod = data.draw(kind_objects(surface, "v1", "Pod", depth=3))
    if data.draw(st.booleans()):
        pod = data.draw(_broken(pod))
    body = {**pod, "apiVersion": "example.com/v1", "kind": "Widget"}
    target = PatchTarget(
        GroupVersionKind("example.com", "v1", "Widget"),
        "widgets",
        _WIDGET.name,
        "obj",
        "default",
        subresource,
        custom_resource=True,
        extra_types={_WIDGET.name: _WIDGET},
    )
    _drawn(*_both(_object_type(surface, target), _stored(body, True), "op"))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["a", "b", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner),
    max_leaves=12,
)


@given(spec=_JSON, extra=st.dictionaries(st.sampled_from(["spec", "data", "x"]), _JSON))
def test_a_schemaless_custom_resource_create_records_what_the_general_path_records(
    spec: Any, extra: dict[str, Any]
) -> None:
    surface = _SURFACES["1.21"]
    target = PatchTarget(
        GroupVersionKind("example.com", "v1", "Thing"),
        "things",
        DEDUCED_TYPE,
        "obj",
        "default",
        custom_resource=True,
    )
    body = {"apiVersion": "example.com/v1", "kind": "Thing", "spec": spec, **extra}
    _drawn(*_both(_object_type(surface, target), _stored(body, True), "op"))


def _bench_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"spark-role": "executor"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "spark-kubernetes-executor",
                    "image": "apache/spark:3.5.1",
                    "args": ["executor"],
                    "env": [{"name": "SPARK_EXECUTOR_ID", "value": "1"}],
                    "resources": {"requests": {"cpu": "1"}, "limits": {"memory": "896Mi"}},
                    "ports": [{"containerPort": 7079, "protocol": "TCP"}],
                }
            ],
        },
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_the_fast_path_answers_for_everyday_creates(version: str) -> None:
    """It must not silently give up on the objects it exists for."""
    surface = _SURFACES[version]
    ot = _object_type_for(surface, "v1", "Pod")
    fast, general = _both(ot, _stored(_bench_pod(), True), "bench")
    assert fast is not None
    _same(fast, general)
    assert (
        record_update(
            surface,
            PatchTarget.for_resource(surface.resource("v1", "Pod"), "p", "default"),  # type: ignore[arg-type]
            None,
            _stored(_bench_pod(), True),
            now=NOW,
            field_manager="bench",
        )
        == fast
    )
    spec = fast["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    assert 'k:{"name":"spark-kubernetes-executor"}' in spec["f:containers"]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(case=_case(), complete=st.booleans())
def test_a_body_that_types_cleanly_has_no_typing_error_at_all(
    case: tuple[str, str, str, dict[str, Any]], complete: bool
) -> None:
    """The compiled check that lets ``validate`` skip its error-reporting walk never hides an
    error that walk would report, in any version's mode (the planner's ``complete`` too)."""
    version, api_version, kind, obj = case
    surface = _SURFACES[version]
    ot = _object_type_for(surface, api_version, kind)
    clean = types_cleanly(obj, ot.ref, ot.index, ot.rules.optional_keys)
    event("types cleanly" if clean else "needs the full walk")
    walker = _Validator(ot.index, ot.rules, complete)
    walker.value(obj, ot.ref, (), ())
    if clean:
        assert walker.errors == []
    assert validate(obj, ot.ref, ot.index, ot.rules, complete=complete) == walker.errors
