"""The 500 "failed to create typed patch object", message for message, per server version.

Sources of the expected texts:
- kubeflow/spark-operator#2048 (Kubernetes 1.18.6, Spark 3.5 driver Service): one element of
  ``.spec.ports`` and ``.spec.ipFamilies``, each on its own indented line;
- kubeflow/spark-operator#2051 (a 1.17 cluster): all three ports, then ``ipFamilies`` and
  ``ipFamilyPolicy`` as ``schema error: invalid atom: inlined``;
- structured-merge-diff typed/helpers.go at v4.0.2+ (``(and doesn't have default value)``) and
  kubernetes PR 104351 (1.23+: ``(NAMESPACE/NAME; GROUP/VERSION, Kind=KIND)``), with messages
  seen in the wild: piraeus-operator#803 (1.19.0, one error), a Deployment with duplicate env
  names (``duplicate entries for key [name="..."]``), a DaemonSet container's unknown field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kubespark.apisurface import load_surface
from kubespark.kube.errors import InternalError, TypedPatchRejected, error_for_status
from kubespark.kube.status import Status
from kubespark.patch import (
    PatchTarget,
    TypingErrorKind,
    apply_patch,
    apply_typing_errors,
    typed_patch_failure,
)

APPLY = "application/apply-patch+yaml; charset=utf-8"

OMITS_0 = '.spec.ports: element 0: associative list with keys has an element that omits key field "protocol"'  # noqa: E501

# kubeflow/spark-operator#2048, Kubernetes 1.18.6, verbatim.
ISSUE_2048 = (
    "failed to create typed patch object: errors:\n"
    f"  {OMITS_0}\n"
    "  .spec.ipFamilies: field not declared in schema"
)

# kubeflow/spark-operator#2051 (1.17), verbatim.
ISSUE_2051 = (
    "failed to create typed patch object: errors:\n"
    "  .spec.ports: element 0: associative list with keys has an element that omits key field "
    '"protocol"\n'
    "  .spec.ports: element 1: associative list with keys has an element that omits key field "
    '"protocol"\n'
    "  .spec.ports: element 2: associative list with keys has an element that omits key field "
    '"protocol"\n'
    "  .spec.ipFamilies: schema error: invalid atom: inlined\n"
    "  .spec.ipFamilyPolicy: schema error: invalid atom: inlined"
)


NOW = datetime(2026, 11, 27, 6, 6, 9, tzinfo=UTC)


def _apply(version: str, request: dict[str, Any]) -> Any:
    surface = load_surface(version)
    body = request["body"]
    resource = surface.resource(body["apiVersion"], body["kind"])
    assert resource is not None
    return apply_patch(
        surface,
        PatchTarget.for_resource(resource, body["metadata"]["name"], "spark-jobs"),
        None,
        json.dumps(body),
        content_type=request["content_type"],
        field_manager="fabric8",
        force=True,
        now=NOW,
    )


@pytest.mark.parametrize("version", ["1.18", "1.18.6", "1.19", "1.19.9"])
def test_spark_service_on_1_18_and_1_19_fails_like_issue_2048(
    version: str, spark351: dict[str, Any]
) -> None:
    with pytest.raises(TypedPatchRejected) as caught:
        _apply(version, spark351["Service"])
    status = caught.value.status
    assert status.code == 500
    assert status.message == ISSUE_2048
    # A plain Go error: no reason, no details, as fabric8 printed it (reason=null, details=null).
    assert status.reason == ""
    assert status.details is None


@pytest.mark.parametrize("version", ["1.16", "1.17", "1.17.4"])
def test_spark_service_on_early_1_16_and_1_17_fails_like_issue_2051(
    version: str, spark351: dict[str, Any]
) -> None:
    with pytest.raises(TypedPatchRejected) as caught:
        _apply(version, spark351["Service"])
    assert caught.value.status.message == ISSUE_2051


def test_spark_service_on_1_17_5_says_not_declared_but_still_lists_everything(
    spark351: dict[str, Any],
) -> None:
    # structured-merge-diff v2.0.1 (1.17.5): PR 131's wording, the old collect-all walk.
    with pytest.raises(TypedPatchRejected) as caught:
        _apply("1.17.5", spark351["Service"])
    expected = ISSUE_2051.replace(
        "schema error: invalid atom: inlined", "field not declared in schema"
    )
    assert caught.value.status.message == expected


@pytest.mark.parametrize("version", ["1.20", "1.20.5"])
def test_spark_service_on_1_20_fails_on_protocol_only(
    version: str, spark351: dict[str, Any]
) -> None:
    with pytest.raises(TypedPatchRejected) as caught:
        _apply(version, spark351["Service"])
    assert caught.value.status.message == (
        f"failed to create typed patch object: {OMITS_0} (and doesn't have default value)"
    )


@pytest.mark.parametrize("version", ["1.20.6", "1.21", "1.22", "1.23", "1.29", "1.34"])
def test_spark_service_is_accepted_from_1_20_6(version: str, spark351: dict[str, Any]) -> None:
    result = _apply(version, spark351["Service"])
    assert result.created
    assert result.object["metadata"]["managedFields"][0]["manager"] == "fabric8"


def test_spark_service_is_accepted_by_the_newest(newest: Any, spark351: dict[str, Any]) -> None:
    result = _apply(str(newest.version), spark351["Service"])
    assert result.created and result.changed


@pytest.mark.parametrize("version", ["1.16", "1.16.7", "1.17"])
def test_spark_configmap_immutable_is_unknown_before_1_18(
    version: str, spark351: dict[str, Any]
) -> None:
    # ConfigMap.immutable was added (alpha) in 1.18; an apply body with it cannot be typed.
    with pytest.raises(TypedPatchRejected) as caught:
        _apply(version, spark351["ConfigMap"])
    wording = (
        "field not declared in schema"
        if version == "1.16.7"
        else ("schema error: invalid atom: inlined")
    )
    assert (
        caught.value.status.message == f"failed to create typed patch object: .immutable: {wording}"
    )


@pytest.mark.parametrize("version", ["1.18", "1.19", "1.20", "1.21"])
def test_spark_configmap_is_accepted_from_1_18(version: str, spark351: dict[str, Any]) -> None:
    assert _apply(version, spark351["ConfigMap"]).created


def test_new_prefix_names_the_object_from_1_23(newest: Any, spark351: dict[str, Any]) -> None:
    # kubernetes PR 104351: "(NAMESPACE/NAME; GROUP/VERSION, Kind=KIND)". The Service body has
    # no namespace (it comes from the URL), so the message shows "/NAME".
    body = json.loads(json.dumps(spark351["Service"]["body"]))
    body["spec"]["ipFamily"] = "IPv4"  # the singular field dual-stack removed
    with pytest.raises(TypedPatchRejected) as caught:
        _apply(str(newest.version), {"body": body, "content_type": APPLY})
    name = body["metadata"]["name"]
    assert caught.value.status.message == (
        f"failed to create typed patch object (/{name}; /v1, Kind=Service): "
        ".spec.ipFamily: field not declared in schema"
    )


def test_single_error_on_1_19_has_no_errors_header() -> None:
    # piraeus-operator#803 on 1.19.0: "failed to create typed patch object:
    # .spec.ipFamilyPolicy: field not declared in schema".
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "linstor-controller", "namespace": "piraeus"},
        "spec": {"ipFamilyPolicy": "SingleStack", "ports": [{"port": 3370, "protocol": "TCP"}]},
    }
    assert typed_patch_failure(load_surface("1.19.0"), body) == (
        "failed to create typed patch object: .spec.ipFamilyPolicy: field not declared in schema"
    )


def test_duplicate_keys_are_reported_together_and_with_the_new_prefix(newest: Any) -> None:
    # As reported for a Helm chart with duplicated env names (server-side apply, 1.29+):
    # both duplicates, each on its own line, under the container's key.
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "rag-nv-ingest", "namespace": "rag"},
        "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nv-ingest",
                            "image": "nv-ingest:1",
                            "env": [
                                {"name": "INGEST_LOG_LEVEL", "value": "INFO"},
                                {"name": "VLM_CAPTION_ENDPOINT", "value": "a"},
                                {"name": "INGEST_LOG_LEVEL", "value": "DEBUG"},
                                {"name": "VLM_CAPTION_ENDPOINT", "value": "b"},
                            ],
                        }
                    ]
                },
            },
        },
    }
    assert typed_patch_failure(newest, body) == (
        "failed to create typed patch object (rag/rag-nv-ingest; apps/v1, Kind=Deployment): "
        "errors:\n"
        '  .spec.template.spec.containers[name="nv-ingest"].env: duplicate entries for key '
        '[name="INGEST_LOG_LEVEL"]\n'
        '  .spec.template.spec.containers[name="nv-ingest"].env: duplicate entries for key '
        '[name="VLM_CAPTION_ENDPOINT"]'
    )


def test_unknown_field_inside_a_keyed_container_prints_its_key(newest: Any) -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "log-shipper-agent", "namespace": "d8-log-shipper"},
        "spec": {
            "selector": {"matchLabels": {"app": "v"}},
            "template": {
                "metadata": {"labels": {"app": "v"}},
                "spec": {"containers": [{"name": "vector", "resources": {"cpu": "1"}}]},
            },
        },
    }
    assert typed_patch_failure(newest, body) == (
        "failed to create typed patch object (d8-log-shipper/log-shipper-agent; apps/v1, "
        'Kind=DaemonSet): .spec.template.spec.containers[name="vector"].resources.cpu: '
        "field not declared in schema"
    )


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.17.5", '.spec.replicas: expected numeric (int or float), got "three"'),
        ("1.18", ".spec.replicas: expected numeric (int or float), got *value.valueUnstructured"),
        ("1.21", ".spec.replicas: expected numeric (int or float), got string"),
    ],
)
def test_wrong_scalar_types_print_as_each_generation_prints_them(
    version: str, expected: str
) -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"replicas": "three"},
    }
    message = typed_patch_failure(load_surface(version), body)
    assert message is not None and message.endswith(expected)


def test_other_type_errors_print_go_values() -> None:
    surface = load_surface("1.21")
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"clusterIP": 7, "publishNotReadyAddresses": "yes", "selector": "app"},
    }
    message = typed_patch_failure(surface, body)
    assert message == (
        "failed to create typed patch object: errors:\n"
        "  .spec.clusterIP: expected string, got &value.valueUnstructured{Value:7}\n"
        "  .spec.publishNotReadyAddresses: expected boolean, got &{yes}\n"
        "  .spec.selector: expected map, got &{app}"
    )


def test_the_status_is_a_permanent_500_that_clients_recognise(spark351: dict[str, Any]) -> None:
    with pytest.raises(TypedPatchRejected) as caught:
        _apply("1.19", spark351["Service"])
    wire = caught.value.status.to_wire()
    # What a client parses back from the wire is the same permanent error.
    again = error_for_status(Status.model_validate(wire))
    assert isinstance(again, TypedPatchRejected) and not isinstance(again, InternalError)
    assert wire["code"] == 500 and wire["message"] == ISSUE_2048


def test_apply_typing_errors_lists_everything_the_planner_must_fix(
    spark351: dict[str, Any],
) -> None:
    # The server stops at one port and one field from 1.18; the planner needs all of them.
    errors = apply_typing_errors(load_surface("1.19"), spark351["Service"]["body"])
    kinds = [(e.kind, e.location, e.name) for e in errors]
    assert kinds == [
        (TypingErrorKind.OMITTED_KEY, ("spec", "ports", 0), "protocol"),
        (TypingErrorKind.OMITTED_KEY, ("spec", "ports", 1), "protocol"),
        (TypingErrorKind.OMITTED_KEY, ("spec", "ports", 2), "protocol"),
        (TypingErrorKind.UNKNOWN_FIELD, ("spec", "ipFamilies"), "ipFamilies"),
        (TypingErrorKind.UNKNOWN_FIELD, ("spec", "ipFamilyPolicy"), "ipFamilyPolicy"),
    ]
    assert (
        apply_typing_errors(load_surface("1.20"), spark351["Service"]["body"])[0].path
        == ".spec.ports"
    )
    assert apply_typing_errors(load_surface("1.21"), spark351["Service"]["body"]) == []


def test_spark_4_3_network_policy_applies_where_the_group_is_served(
    spark430: dict[str, Any],
) -> None:
    body = spark430["NetworkPolicy"]["body"]
    assert apply_typing_errors(load_surface("1.21"), body) == []
    assert typed_patch_failure(load_surface("1.21"), body) is None
