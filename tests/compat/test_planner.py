"""plan_writes on real spark-submit bodies and real schemas: methods, notes, bodies, order."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from kubespark.apisurface import check_object, field_history, known_versions, load_surface
from kubespark.compat import (
    ConflictAction,
    Intent,
    NoteCode,
    PlanError,
    WriteMethod,
    lower_object,
    notes_for_people,
    plan_writes,
)
from kubespark.kube.requests import APPLY_PATCH, JSON, MERGE_PATCH
from kubespark.versions import Version

NS = "spark-jobs"


def codes(notes: Any) -> list[NoteCode]:
    return [n.code for n in notes]


def only(plan: Any, kind: str) -> Any:
    (write,) = [w for w in plan.writes if w.object.kind == kind]
    return write


# --- the must-hold: spark-submit 3.5.1's applied Service and ConfigMap --------------------------


def test_on_1_19_apply_of_the_spark_service_is_reported_to_fail_and_a_post_is_planned(
    spark351_applied: dict[str, Any],
) -> None:
    service = spark351_applied["Service"]
    plan = plan_writes([service], load_surface("1.19"), Intent.APPLY, namespace=NS)
    write = only(plan, "Service")

    assert write.method is WriteMethod.CREATE
    assert write.request.method == "POST"
    assert write.request.path == "/api/v1/namespaces/spark-jobs/services"
    assert write.request.content_type == JSON
    (failure,) = [n for n in write.notes if n.code is NoteCode.APPLY_WOULD_FAIL]
    # The three causes, worded as a 1.19 server words them; the ports' one said once.
    assert ".spec.ipFamilies: field not declared in schema" in failure.message
    assert ".spec.ipFamilyPolicy: field not declared in schema" in failure.message
    assert (
        ".spec.ports: elements 0, 1, 2: associative list with keys has an element that omits key "
        'field "protocol"' in failure.message
    )
    pruned = {n.path: n for n in write.notes if n.code is NoteCode.PRUNED_FIELD}
    assert set(pruned) == {".spec.ipFamilies", ".spec.ipFamilyPolicy"}
    assert all(n.added_in == Version(1, 20) for n in pruned.values())
    assert pruned[".spec.ipFamilies"].message == (
        "server 1.19: dropped spec.ipFamilies, added in 1.20"
    )
    (fallback,) = [n for n in write.notes if n.code is NoteCode.FALLBACK_TO_CREATE]
    assert fallback.message.startswith(
        "server 1.19: created the Service with POST instead of apply; dropped spec.ipFamilies "
        "(added in 1.20), spec.ipFamilyPolicy (added in 1.20)"
    )
    # The server accepts the POST: nothing in it contradicts 1.19's schema.
    assert check_object(load_surface("1.19"), write.body) == []
    # Everything else is kept as spark-submit sent it.
    expected = copy.deepcopy(service)
    del expected["spec"]["ipFamilies"], expected["spec"]["ipFamilyPolicy"]
    assert write.body == expected
    # If it exists already, the same body goes as a merge patch: nothing existing is removed.
    assert write.on_conflict.action is ConflictAction.MERGE_PATCH
    assert write.on_conflict.then.method == "PATCH"
    assert write.on_conflict.then.content_type == MERGE_PATCH
    assert write.on_conflict.then.body == expected
    assert write.on_conflict.then.path == (
        "/api/v1/namespaces/spark-jobs/services/spark-pi-815834a21b9c71bf-driver-svc"
    )


def test_the_spark_configmap_keeps_apply_where_the_schema_has_immutable(
    spark351_applied: dict[str, Any],
) -> None:
    config_map = spark351_applied["ConfigMap"]
    history = field_history("io.k8s.api.core.v1.ConfigMap", "immutable")
    assert Version(1, 19) in history.present_in, "1.19's schema has ConfigMap.immutable"
    plan = plan_writes([config_map], load_surface("1.19"), Intent.APPLY)
    write = only(plan, "ConfigMap")
    assert write.method is WriteMethod.APPLY
    assert write.notes == ()
    assert write.body == config_map

    # Where the schema lacks it (1.17), apply would fail on it and a POST without it is planned.
    older = plan_writes([config_map], load_surface("1.17"), Intent.APPLY)
    write = only(older, "ConfigMap")
    assert write.method is WriteMethod.CREATE
    assert ".immutable" in next(
        n.message for n in write.notes if n.code is NoteCode.APPLY_WOULD_FAIL
    )
    (pruned,) = [n for n in write.notes if n.code is NoteCode.PRUNED_FIELD]
    assert (pruned.path, pruned.added_in) == (".immutable", history.present_in[0])
    assert "immutable" not in write.body
    assert check_object(load_surface("1.17"), write.body) == []


@pytest.mark.parametrize("version", [str(v) for v in known_versions() if v >= Version(1, 21)])
def test_from_1_21_apply_is_kept_unchanged(version: str, spark351_applied: dict[str, Any]) -> None:
    bodies = [spark351_applied["Service"], spark351_applied["ConfigMap"]]
    plan = plan_writes(bodies, load_surface(version), Intent.APPLY, namespace=NS)
    assert [w.method for w in plan.writes] == [WriteMethod.APPLY, WriteMethod.APPLY]
    assert plan.notes == ()
    # ConfigMaps (configuration) are written before Services.
    assert [w.object.kind for w in plan.writes] == ["ConfigMap", "Service"]
    for write, body in zip(plan.writes, reversed(bodies), strict=True):
        assert write.body == body
        assert write.request.method == "PATCH"
        assert write.request.content_type == APPLY_PATCH
        assert dict(write.request.query) == {"fieldManager": "kubespark", "force": "true"}
    assert plan.writes[1].request.path == (
        "/api/v1/namespaces/spark-jobs/services/spark-pi-815834a21b9c71bf-driver-svc"
    )


def test_on_1_20_0_the_port_protocol_is_filled_and_apply_kept(
    spark351_applied: dict[str, Any],
) -> None:
    service = spark351_applied["Service"]
    write = only(plan_writes([service], load_surface("1.20.0"), "apply"), "Service")
    assert write.method is WriteMethod.APPLY
    filled = [n for n in write.notes if n.code is NoteCode.FILLED_LIST_MAP_KEY]
    assert [n.path for n in filled] == [f".spec.ports[{i}].protocol" for i in range(3)]
    assert [p["protocol"] for p in write.body["spec"]["ports"]] == ["TCP"] * 3
    assert write.body["spec"]["ipFamilies"] == ["IPv4"]  # 1.20 knows it: kept
    assert "protocol" not in service["spec"]["ports"][0], "the input is not modified"

    # 1.20.6 declares the default itself (the backport): nothing to fill.
    patched = only(plan_writes([service], load_surface("1.20.6"), "apply"), "Service")
    assert (patched.method, patched.notes, patched.body) == (WriteMethod.APPLY, (), service)


def test_create_and_create_or_replace_post_without_unknown_fields(
    spark351_applied: dict[str, Any],
) -> None:
    service = spark351_applied["Service"]
    create = only(plan_writes([service], load_surface("1.19"), "create", namespace=NS), "Service")
    assert create.request.method == "POST"
    assert create.on_conflict.action is ConflictAction.FAIL
    assert codes(create.notes) == [NoteCode.PRUNED_FIELD, NoteCode.PRUNED_FIELD]

    replace = only(
        plan_writes([service], load_surface("1.19"), "create-or-replace", namespace=NS), "Service"
    )
    item = "/api/v1/namespaces/spark-jobs/services/spark-pi-815834a21b9c71bf-driver-svc"
    assert replace.on_conflict.action is ConflictAction.REPLACE
    assert (replace.on_conflict.get.method, replace.on_conflict.get.path) == ("GET", item)
    assert (replace.on_conflict.then.method, replace.on_conflict.then.path) == ("PUT", item)
    assert replace.on_conflict.then.body == replace.body
    # A replace keeps the clusterIP the server allocated (old servers refuse to clear it).
    assert "spec.clusterIP" in replace.on_conflict.carry


def test_notes_are_frozen_values_naming_object_path_and_version(
    spark351_applied: dict[str, Any],
) -> None:
    plan = plan_writes([spark351_applied["Service"]], load_surface("1.19"), "apply", namespace=NS)
    for note in plan.notes:
        assert note.object.kind == "Service"
        assert note.object.namespace == NS
        assert note.message.startswith("server 1.19: ")
        with pytest.raises(dataclasses.FrozenInstanceError):
            note.message = "changed"  # type: ignore[misc]
    assert "POST /api/v1/namespaces/spark-jobs/services" in plan.render()


def test_generate_name_objects_are_created_even_for_apply() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "job-"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    write = only(plan_writes([pod], load_surface("1.25"), "apply"), "Pod")
    assert write.request.method == "POST"
    assert codes(write.notes) == [NoteCode.FALLBACK_TO_CREATE]
    assert write.on_conflict.action is ConflictAction.FAIL


# --- order ---------------------------------------------------------------------------------------


def _obj(api_version: str, kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **extra}


def test_order_puts_prerequisites_first_and_keeps_owned_groups_together(
    spark351_all: list[dict[str, Any]],
) -> None:
    crd = _obj(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "sparkapplications.sparkoperator.k8s.io",
        spec={
            "group": "sparkoperator.k8s.io",
            "names": {"kind": "SparkApplication", "plural": "sparkapplications"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1beta2",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    )
    app = _obj("sparkoperator.k8s.io/v1beta2", "SparkApplication", "pi", spec={"type": "Scala"})
    given = [
        app,
        _obj("networking.k8s.io/v1", "Ingress", "ui", spec={}),
        *spark351_all,  # Pod, then its Service and ConfigMap (owned by the Pod)
        _obj("v1", "ConfigMap", "settings"),
        _obj(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            "rb",
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        ),
        _obj("v1", "ServiceAccount", "spark"),
        crd,
        _obj(
            "apps/v1",
            "Deployment",
            "web",
            spec={
                "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}},
            },
        ),
        _obj("v1", "Namespace", "spark-jobs"),
    ]
    plan = plan_writes(given, load_surface("1.25"), "create", namespace=NS)
    assert [(w.object.kind, w.object.name) for w in plan.writes] == [
        ("Namespace", "spark-jobs"),
        ("CustomResourceDefinition", "sparkapplications.sparkoperator.k8s.io"),
        ("RoleBinding", "rb"),
        ("ServiceAccount", "spark"),
        ("ConfigMap", "settings"),
        ("Pod", "spark-pi-815834a21b9c71bf-driver"),
        ("Service", "spark-pi-815834a21b9c71bf-driver-svc"),
        ("ConfigMap", "spark-drv-9b4e8ea21b9c7893-conf-map"),
        ("Deployment", "web"),
        ("Ingress", "ui"),
        ("SparkApplication", "pi"),
    ]
    cr = plan.writes[-1]
    assert cr.request.path == (
        "/apis/sparkoperator.k8s.io/v1beta2/namespaces/spark-jobs/sparkapplications"
    )
    assert codes(cr.notes) == [NoteCode.CUSTOM_RESOURCE]


# --- apiVersion mapping --------------------------------------------------------------------------


def test_an_api_removed_without_lossless_mapping_is_an_error_naming_it() -> None:
    old = _obj("extensions/v1beta1", "Deployment", "web", spec={})
    with pytest.raises(PlanError) as caught:
        plan_writes([old], load_surface("1.19"), "apply")
    err = caught.value
    assert "extensions/v1beta1 Deployment is not served by Kubernetes 1.19" in err.message
    assert "nor by any version from 1.16 to" in err.message
    assert "apps/v1" in (err.fix or "")


def test_an_api_too_new_for_the_server_names_the_first_version_with_it() -> None:
    ingress = _obj(
        "networking.k8s.io/v1",
        "Ingress",
        "ui",
        spec={
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Exact",
                                "backend": {"service": {"name": "ui", "port": {"number": 80}}},
                            }
                        ]
                    }
                }
            ]
        },
    )
    with pytest.raises(PlanError) as caught:
        plan_writes([ingress], load_surface("1.17"), "apply")
    err = caught.value
    assert "served from 1.19" in err.message
    assert "pathType Exact has no equivalent" in err.message
    assert "Kubernetes 1.19 or newer" in (err.fix or "")
    assert err.render().count("\n") == 1  # one message and one fix


def test_lower_object_returns_the_reason_instead_of_raising() -> None:
    result = lower_object(load_surface("1.19"), {"apiVersion": "v1", "kind": "Pod"})
    assert result == ("the object has no metadata.name", "set metadata.name")
    result = lower_object(load_surface("1.19"), {"kind": "Pod", "metadata": {"name": "x"}})
    assert isinstance(result, tuple) and "apiVersion" in result[0]


def test_non_objects_are_reported_not_crashed_on() -> None:
    with pytest.raises(PlanError) as caught:
        plan_writes(["not an object"], load_surface("1.19"), "apply")  # type: ignore[list-item]
    assert "a str is not a Kubernetes object" in caught.value.message


def test_unknown_intent_is_an_input_error() -> None:
    from kubespark.errors import InputError

    with pytest.raises(InputError) as caught:
        plan_writes([], load_surface("1.19"), "upsert")
    assert "create, create-or-replace, apply" in (caught.value.fix or "")


def test_notes_for_people_fold_pruned_fields_into_the_fallback(
    spark351_applied: dict[str, Any],
) -> None:
    service = spark351_applied["Service"]
    plan = plan_writes([service], load_surface("1.19"), Intent.APPLY, namespace=NS)
    write = only(plan, "Service")
    readable = notes_for_people(write.notes)
    codes = [n.code for n in readable]
    assert NoteCode.PRUNED_FIELD not in codes and NoteCode.FALLBACK_TO_CREATE in codes
    # the machine-readable notes keep one per dropped field
    assert sum(n.code is NoteCode.PRUNED_FIELD for n in write.notes) == 2
    # where no fallback names them, pruned fields stay
    on_1_21 = plan_writes([service], load_surface("1.21"), Intent.CREATE, namespace=NS)
    assert notes_for_people(on_1_21.notes) == tuple(on_1_21.notes)
