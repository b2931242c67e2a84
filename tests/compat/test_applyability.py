"""predict_apply: the patch engine's typing, and the first pass that may skip it."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typedef_strategies import kind_objects

from kubespark.apisurface import load_surface
from kubespark.compat.applyability import predict_apply, surely_typed
from kubespark.patch import apply_typing_errors as engine_errors
from kubespark.patch import typed_patch_failure


def test_the_spark_service_fails_with_the_servers_own_message(
    spark351_applied: dict[str, Any],
) -> None:
    service = spark351_applied["Service"]
    for version in ("1.17", "1.19", "1.20"):
        surface = load_surface(version)
        prediction = predict_apply(surface, service)
        assert prediction.fails and prediction.http_status == 500
        assert prediction.status_message == typed_patch_failure(surface, service)
        assert not surely_typed(surface, "io.k8s.api.core.v1.Service", service)
    causes = predict_apply(load_surface("1.19"), service).causes()
    for cause in (".spec.ipFamilies", ".spec.ipFamilyPolicy", 'omits key field "protocol"'):
        assert cause in causes
    # One cause per object: the three ports without protocol are one cause, said once.
    assert causes.count('omits key field "protocol"') == 1
    assert ".spec.ports: elements 0, 1, 2: associative list with keys has an element" in causes
    assert not predict_apply(load_surface("1.21"), service).fails
    assert surely_typed(load_surface("1.21"), "io.k8s.api.core.v1.Service", service)


def test_the_message_names_the_namespace_of_the_request(spark351_applied: dict[str, Any]) -> None:
    service = copy.deepcopy(spark351_applied["Service"])
    service["spec"]["ports"][0]["protocol"] = "TCP"
    service["spec"]["ports"][1]["protocol"] = "TCP"
    del service["spec"]["ports"][2]
    service["spec"]["bogus"] = 1
    message = predict_apply(load_surface("1.25"), service, namespace="spark-jobs").status_message
    assert message.startswith(
        "failed to create typed patch object (spark-jobs/spark-pi-815834a21b9c71bf-driver-svc; "
        "/v1, Kind=Service): .spec.bogus: field not declared in schema"
    )


_NOISE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(0, 2, allow_nan=False),
    st.sampled_from(["x", "80", "TCP"]),
    # Fresh containers each time: a shared one could end up inside itself.
    st.builds(list),
    st.builds(dict),
    st.builds(lambda: [None]),
)


def _containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(value, dict):
        out.append(path)
        for k, v in value.items():
            out += _containers(v, (*path, k))
    elif isinstance(value, list):
        out.append(path)
        for i, v in enumerate(value):
            out += _containers(v, (*path, i))
    return out


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def mutate(obj: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """A few random edits: wrong types, unknown fields, dropped keys, duplicates, nulls."""
    out = copy.deepcopy(obj)
    for _ in range(data.draw(st.integers(1, 3))):
        if not _containers(out)[1:]:
            break
        # Below the top level (apiVersion and kind stay), metadata's own keys included.
        places = [p for p in _containers(out) if p]
        where = _at(out, data.draw(st.sampled_from(places)))
        op = data.draw(st.sampled_from(["set", "add", "drop", "dup", "null"]))
        if isinstance(where, dict):
            keys = sorted(where, key=str)
            if op == "set" and keys:
                where[data.draw(st.sampled_from(keys))] = data.draw(_NOISE)
            elif op == "drop" and keys:
                del where[data.draw(st.sampled_from(keys))]
            elif op == "add":
                where[data.draw(st.sampled_from(["bogus", "protocol", "name", "port"]))] = (
                    data.draw(_NOISE)
                )
        elif isinstance(where, list):
            if op == "dup" and where:
                where.append(copy.deepcopy(where[0]))
            elif op == "null":
                where.append(None)
            elif op == "set" and where:
                where[0] = data.draw(_NOISE)
    return out


KINDS = [
    ("v1", "Service"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("v1", "ConfigMap"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["1.16", "1.19", "1.20", "1.25", "1.34"]).flatmap(
        lambda v: st.tuples(
            st.just(v),
            st.sampled_from(KINDS).flatmap(
                lambda kind: kind_objects(load_surface(v), *kind, depth=4)
            ),
        )
    ),
    st.data(),
)
def test_the_first_pass_never_calls_a_failing_body_clean(
    case: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    version, obj = case
    surface = load_surface(version)
    body = mutate(obj, data)
    resource = surface.resource(body["apiVersion"], body["kind"])
    assert resource is not None
    if surely_typed(surface, resource.type_name, body):
        assert engine_errors(surface, body, type_name=resource.type_name) == []
    assert predict_apply(surface, body).fails == bool(
        engine_errors(surface, body, type_name=resource.type_name)
    )
