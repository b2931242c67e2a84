"""Server-side apply: create via apply, ownership, conflicts, force, pruning, no-ops.

Expected behaviour from the Kubernetes documentation ("Server-Side Apply": conflicts, managers,
"Apply failed with 1 conflict: conflict with ... using apps/v1: .spec.replicas", transferring
ownership, upgrading from client-side apply) and the field manager's source
(k8s.io/apimachinery/pkg/util/managedfields/internal, structured-merge-diff merge/update.go).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from kubespark.apisurface import ApiSurface, load_surface
from kubespark.kube.errors import BadRequest, Conflict, Invalid, UnsupportedMediaType
from kubespark.patch import PatchResult, PatchTarget, apply_patch, record_update

APPLY = "application/apply-patch+yaml"
Target = Callable[..., PatchTarget]


def _deployment(replicas: int | None = 3, image: str = "nginx:1.25") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": image}]},
        },
    }
    if replicas is not None:
        spec = {"replicas": replicas, **spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": spec,
    }


def _apply(
    surface: ApiSurface,
    target: Target,
    live: dict[str, Any] | None,
    body: dict[str, Any],
    manager: str,
    now: datetime,
    *,
    force: bool | None = None,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> PatchResult:
    return apply_patch(
        surface,
        target(surface, body),
        live,
        json.dumps(body),
        content_type=APPLY,
        field_manager=manager,
        force=force,
        now=now,
        prepare=prepare,
    )


def _entries(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"]["managedFields"]}


def test_spark_service_created_by_apply_is_owned_by_fabric8(
    spark351: dict[str, Any], target: Target, now: datetime, defaulting: Any
) -> None:
    surface = load_surface("1.21")
    request = spark351["Service"]
    body = request["body"]
    result = apply_patch(
        surface,
        target(surface, body, "spark-jobs"),
        None,
        json.dumps(body),
        content_type=request["content_type"],
        field_manager="fabric8",
        force=True,
        now=now,
        prepare=defaulting(surface),
    )
    assert result.created and result.changed
    stored = result.object
    # The server's defaults are stored (protocol TCP) but owned by nobody.
    assert [p["protocol"] for p in stored["spec"]["ports"]] == ["TCP", "TCP", "TCP"]
    assert stored["metadata"]["namespace"] == "spark-jobs"
    [entry] = stored["metadata"]["managedFields"]
    assert {k: v for k, v in entry.items() if k != "fieldsV1"} == {
        "manager": "fabric8",
        "operation": "Apply",
        "apiVersion": "v1",
        "time": "2026-11-27T06:06:09Z",
        "fieldsType": "FieldsV1",
    }
    port = {".": {}, "f:name": {}, "f:port": {}, "f:targetPort": {}}
    owner = {
        ".": {},
        "f:apiVersion": {},
        "f:controller": {},
        "f:kind": {},
        "f:name": {},
        "f:uid": {},
    }
    assert entry["fieldsV1"] == {
        "f:metadata": {
            "f:labels": {"f:spark-app-selector": {}},
            "f:ownerReferences": {'k:{"uid":"8f4642de-4774-4260-858c-5c18084e20c9"}': owner},
        },
        "f:spec": {
            "f:clusterIP": {},
            "f:ipFamilies": {},
            "f:ipFamilyPolicy": {},
            "f:ports": {
                'k:{"port":4040,"protocol":"TCP"}': port,
                'k:{"port":7078,"protocol":"TCP"}': port,
                'k:{"port":7079,"protocol":"TCP"}': port,
            },
            "f:selector": {
                "f:spark-app-name": {},
                "f:spark-app-selector": {},
                "f:spark-role": {},
                "f:spark-version": {},
                "f:team": {},
            },
        },
    }
    assert list(entry["fieldsV1"]["f:spec"]["f:ports"]) == sorted(
        entry["fieldsV1"]["f:spec"]["f:ports"]
    )


def test_spark_configmap_created_by_apply(
    spark351: dict[str, Any], target: Target, now: datetime
) -> None:
    surface = load_surface("1.21")
    body = spark351["ConfigMap"]["body"]
    result = _apply(surface, target, None, body, "fabric8", now, force=True)
    fields = _entries(result.object)["fabric8"]["fieldsV1"]
    assert fields["f:immutable"] == {}
    assert set(fields["f:data"]) == {"f:spark.properties", "f:spark.kubernetes.namespace"}
    assert result.object["data"] == body["data"] and result.object["immutable"] is True


@pytest.mark.parametrize("version", ["1.20.6", "1.21", "1.29"])
def test_applying_the_same_body_again_changes_nothing(
    version: str, spark351: dict[str, Any], target: Target, now: datetime, defaulting: Any
) -> None:
    surface = load_surface(version)
    body = spark351["Service"]["body"]
    prepare = defaulting(surface)
    first = _apply(surface, target, None, body, "fabric8", now, force=True, prepare=prepare)
    stored = {**first.object, "metadata": {**first.object["metadata"], "uid": "u1"}}
    again = _apply(surface, target, stored, body, "fabric8", now + timedelta(minutes=5), force=True)
    # A no-op apply: nothing to store, and not even the applier's time moves
    # (managedfieldsupdater.go only stamps the time when the object changed).
    assert not again.changed
    assert again.object == stored


def test_conflict_with_a_client_side_applier(target: Target, now: datetime) -> None:
    surface = load_surface("1.22")
    created = _deployment(replicas=3)
    created["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(created) + "\n"
    }
    live = record_update(
        surface,
        target(surface, created),
        None,
        {**created, "metadata": {**created["metadata"], "uid": "u1"}},
        now=now,
        field_manager="kubectl-client-side-apply",
    )
    with pytest.raises(Conflict) as caught:
        _apply(surface, target, live, _deployment(replicas=5), "my-controller", now)
    status = caught.value.status
    assert status.code == 409 and status.reason == "Conflict"
    assert status.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using '
        "apps/v1: .spec.replicas"
    )
    assert status.details is not None and status.details.causes is not None
    [cause] = status.details.causes
    assert (cause.reason, cause.message, cause.field) == (
        "FieldManagerConflict",
        'conflict with "kubectl-client-side-apply" using apps/v1',
        ".spec.replicas",
    )
    assert status.to_wire()["details"] == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
                "field": ".spec.replicas",
            }
        ]
    }


def _client_side_applied(surface: ApiSurface, target: Target, now: datetime) -> dict[str, Any]:
    created = _deployment(replicas=3)
    created["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(created) + "\n"
    }
    stored = {**created, "metadata": {**created["metadata"], "uid": "u1"}}
    return record_update(
        surface,
        target(surface, created),
        None,
        stored,
        now=now,
        field_manager="kubectl-client-side-apply",
    )


def test_force_takes_ownership(target: Target, now: datetime) -> None:
    surface = load_surface("1.22")
    live = _client_side_applied(surface, target, now)
    later = now + timedelta(seconds=30)
    result = _apply(
        surface, target, live, _deployment(replicas=5), "my-controller", later, force=True
    )
    assert result.object["spec"]["replicas"] == 5
    entries = _entries(result.object)
    assert "f:replicas" in entries["my-controller"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in entries["kubectl-client-side-apply"]["fieldsV1"]["f:spec"]
    # Shared fields (applied with the same value) are co-owned, not taken.
    assert "f:selector" in entries["kubectl-client-side-apply"]["fieldsV1"]["f:spec"]
    assert entries["my-controller"]["time"] == "2026-11-27T06:06:39Z"
    assert [e["operation"] for e in result.object["metadata"]["managedFields"]] == [
        "Apply",
        "Update",
    ]


def test_kubectl_server_side_apply_upgrades_from_client_side_apply(
    target: Target, now: datetime
) -> None:
    # lastappliedmanager.go: fields kubectl applied client-side and nobody changed since may be
    # taken over by `kubectl apply --server-side` without a conflict; the annotation follows.
    surface = load_surface("1.22")
    live = _client_side_applied(surface, target, now)
    result = _apply(surface, target, live, _deployment(replicas=5), "kubectl", now)
    assert result.object["spec"]["replicas"] == 5
    annotation = result.object["metadata"]["annotations"][
        "kubectl.kubernetes.io/last-applied-configuration"
    ]
    assert json.loads(annotation)["spec"]["replicas"] == 5 and annotation.endswith("\n")


def test_kubectl_still_conflicts_on_fields_changed_since_the_last_apply(
    target: Target, now: datetime
) -> None:
    surface = load_surface("1.22")
    live = _client_side_applied(surface, target, now)
    scaled = json.loads(json.dumps(live))
    scaled["spec"]["replicas"] = 4
    live = record_update(
        surface, target(surface, scaled), live, scaled, now=now, field_manager="kubectl-scale"
    )
    with pytest.raises(Conflict) as caught:
        _apply(surface, target, live, _deployment(replicas=5), "kubectl", now)
    assert caught.value.status.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas'
    )


def test_several_conflicts_are_grouped_by_manager(target: Target, now: datetime) -> None:
    surface = load_surface("1.22")
    live = _client_side_applied(surface, target, now)
    changed = _deployment(replicas=2, image="nginx:1.27")
    with pytest.raises(Conflict) as caught:
        _apply(surface, target, live, changed, "my-controller", now)
    assert caught.value.status.message == (
        'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using '
        "apps/v1:\n- .spec.replicas\n"
        '- .spec.template.spec.containers[name="nginx"].image'
    )
    assert caught.value.status.details is not None
    fields = [c.field for c in caught.value.status.details.causes or []]
    assert fields == [".spec.replicas", '.spec.template.spec.containers[name="nginx"].image']


def test_fields_an_applier_stops_applying_are_removed(target: Target, now: datetime) -> None:
    surface = load_surface("1.25")
    first = _apply(surface, target, None, _deployment(replicas=3), "ci", now)
    live = {**first.object, "metadata": {**first.object["metadata"], "uid": "u1"}}
    second = _apply(surface, target, live, _deployment(replicas=None), "ci", now)
    assert "replicas" not in second.object["spec"]
    assert "f:replicas" not in _entries(second.object)["ci"]["fieldsV1"]["f:spec"]


def test_fields_another_applier_owns_are_kept(target: Target, now: datetime) -> None:
    surface = load_surface("1.25")
    first = _apply(surface, target, None, _deployment(replicas=3), "ci", now)
    live = {**first.object, "metadata": {**first.object["metadata"], "uid": "u1"}}
    shared = _apply(surface, target, live, _deployment(replicas=3), "team", now).object
    after = _apply(surface, target, shared, _deployment(replicas=None), "ci", now).object
    assert after["spec"]["replicas"] == 3
    entries = _entries(after)
    assert "f:replicas" in entries["team"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in entries["ci"]["fieldsV1"]["f:spec"]


def test_list_items_leave_with_their_applier(target: Target, now: datetime) -> None:
    surface = load_surface("1.25")
    two = _deployment()
    two["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    first = _apply(surface, target, None, two, "ci", now)
    live = {**first.object, "metadata": {**first.object["metadata"], "uid": "u1"}}
    after = _apply(surface, target, live, _deployment(), "ci", now).object
    names = [c["name"] for c in after["spec"]["template"]["spec"]["containers"]]
    assert names == ["nginx"]


def test_apply_to_an_object_nobody_manages_records_before_first_apply(
    target: Target, now: datetime
) -> None:
    surface = load_surface("1.22")
    legacy = _deployment(replicas=3)
    legacy["metadata"]["uid"] = "u1"  # exists, but has no managedFields
    result = _apply(surface, target, legacy, _deployment(replicas=3), "ci", now)
    entries = _entries(result.object)
    assert set(entries) == {"before-first-apply", "ci"}
    assert entries["before-first-apply"]["operation"] == "Update"


def test_applier_and_updater_order_follows_the_server(target: Target, now: datetime) -> None:
    surface = load_surface("1.22")
    live = _client_side_applied(surface, target, now)
    result = _apply(surface, target, live, _deployment(replicas=3), "a-ci", now)
    operations = [
        (e["manager"], e["operation"]) for e in result.object["metadata"]["managedFields"]
    ]
    assert operations == [("a-ci", "Apply"), ("kubectl-client-side-apply", "Update")]


def test_apply_needs_a_field_manager(target: Target, now: datetime) -> None:
    surface = load_surface("1.21")
    with pytest.raises(Invalid) as caught:
        _apply(surface, target, None, _deployment(), "", now)
    status = caught.value.status
    assert status.message == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for '
        "apply patch"
    )
    assert status.to_wire()["details"] == {
        "group": "meta.k8s.io",
        "kind": "PatchOptions",
        "causes": [
            {
                "reason": "FieldValueRequired",
                "message": "Required value: is required for apply patch",
                "field": "fieldManager",
            }
        ],
    }


def test_apply_body_checks(target: Target, now: datetime) -> None:
    surface = load_surface("1.22")
    with_managed = _deployment()
    with_managed["metadata"]["managedFields"] = []
    with pytest.raises(BadRequest, match=r"^metadata\.managedFields must be nil$"):
        _apply(surface, target, None, with_managed, "ci", now)
    old_version = {**_deployment(), "apiVersion": "apps/v1beta1"}
    with pytest.raises(BadRequest) as caught:
        apply_patch(
            surface,
            target(surface, _deployment()),
            None,
            json.dumps(old_version),
            content_type=APPLY,
            field_manager="ci",
            now=now,
        )
    assert caught.value.status.message == (
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, "
        "expected: apps/v1"
    )
    newer = load_surface("1.28")
    with pytest.raises(BadRequest) as caught:
        apply_patch(
            newer,
            target(newer, _deployment()),
            None,
            json.dumps({**_deployment(), "kind": "StatefulSet"}),
            content_type=APPLY,
            field_manager="ci",
            now=now,
        )
    assert caught.value.status.message == "invalid object type: apps/v1, Kind=StatefulSet"
    with pytest.raises(BadRequest) as caught:
        apply_patch(
            surface,
            target(surface, _deployment()),
            None,
            "spec: [unclosed",
            content_type=APPLY,
            field_manager="ci",
            now=now,
        )
    assert caught.value.status.message.startswith("error decoding YAML: error converting YAML")


def test_the_name_in_the_body_must_match_the_url(target: Target, now: datetime) -> None:
    surface = load_surface("1.22")
    other = _deployment()
    other["metadata"]["name"] = "other"
    with pytest.raises(BadRequest) as caught:
        apply_patch(
            surface,
            target(surface, _deployment()),
            None,
            json.dumps(other),
            content_type=APPLY,
            field_manager="ci",
            now=now,
        )
    assert caught.value.status.message == (
        "the name of the object (other) does not match the name on the URL (web)"
    )


def test_yaml_bodies_decode_like_the_server(target: Target, now: datetime) -> None:
    surface = load_surface("1.22")
    body = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n"
        "data:\n  when: 2024-01-01\n  enabled: 'yes'\n"
    )
    result = apply_patch(
        surface,
        PatchTarget.for_resource(surface.resource("v1", "ConfigMap"), "c", "default"),  # type: ignore[arg-type]
        None,
        body,
        content_type=APPLY,
        field_manager="kubectl",
        now=now,
    )
    # go-yaml keeps timestamps as strings for JSON.
    assert result.object["data"] == {"when": "2024-01-01", "enabled": "yes"}


def test_custom_resources_refuse_strategic_merge_patch(now: datetime) -> None:
    surface = load_surface("1.22")
    target = PatchTarget(
        gvk=surface.resources[0].gvk,
        resource="sparkapplications",
        type_name="x",
        name="a",
        namespace="default",
        custom_resource=True,
    )
    with pytest.raises(UnsupportedMediaType) as caught:
        apply_patch(
            surface,
            target,
            {},
            "{}",
            content_type="application/strategic-merge-patch+json",
            now=now,
        )
    assert caught.value.status.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )
    assert caught.value.status.code == 415


def test_status_is_not_owned_through_the_main_resource_from_1_21(
    target: Target, now: datetime
) -> None:
    # resetFields (kubernetes-1.21.0): the registry resets .status on writes to the resource,
    # so the field manager neither records nor conflicts on it.
    body = _deployment()
    body["status"] = {"replicas": 1}
    owned = {}
    for version in ("1.20.6", "1.21"):
        surface = load_surface(version)
        result = _apply(surface, target, None, body, "ci", now)
        owned[version] = "f:status" in _entries(result.object)["ci"]["fieldsV1"]
    assert owned == {"1.20.6": True, "1.21": False}


def test_writes_through_a_subresource_are_recorded_as_such_from_1_22(now: datetime) -> None:
    recorded = {}
    for version in ("1.21", "1.22"):
        surface = load_surface(version)
        resource = surface.resource("apps/v1", "Deployment")
        assert resource is not None
        target = PatchTarget.for_resource(resource, "web", "default", subresource="status")
        live = {**_deployment(), "metadata": {**_deployment()["metadata"], "uid": "u1"}}
        live = record_update(
            surface,
            PatchTarget.for_resource(resource, "web", "default"),
            None,
            live,
            now=now,
            field_manager="kubectl",
        )
        new = {**live, "status": {"replicas": 3}}
        stored = record_update(
            surface, target, live, new, now=now, field_manager="kube-controller-manager"
        )
        entry = _entries(stored)["kube-controller-manager"]
        recorded[version] = (entry.get("subresource"), list(entry["fieldsV1"]))
    assert recorded == {"1.21": (None, ["f:status"]), "1.22": ("status", ["f:status"])}


def test_a_schemaless_custom_resource_is_typed_by_its_shape(now: datetime) -> None:
    from kubespark.apisurface.model import GroupVersionKind
    from kubespark.patch import DEDUCED_TYPE

    surface = load_surface("1.22")
    target = PatchTarget(
        gvk=GroupVersionKind("example.com", "v1", "Widget"),
        resource="widgets",
        type_name=DEDUCED_TYPE,
        name="w",
        namespace="default",
        custom_resource=True,
    )
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3, "tags": ["a", "b"], "nested": {"x": True}},
    }
    result = apply_patch(
        surface, target, None, json.dumps(body), content_type=APPLY, field_manager="ci", now=now
    )
    fields = _entries(result.object)["ci"]["fieldsV1"]
    # Maps are granular, lists atomic, as the API server's deduced type converter has them;
    # keys no schema declares are owned as nodes too (".").
    assert fields["f:spec"] == {
        ".": {},
        "f:nested": {".": {}, "f:x": {}},
        "f:size": {},
        "f:tags": {},
    }
    assert result.object["metadata"]["namespace"] == "default"
    # Created from an empty Unstructured: nothing but what was applied (no "status": {}).
    assert set(result.object) == {"apiVersion", "kind", "metadata", "spec"}


def test_a_custom_resource_list_map_key_with_a_schema_default_may_be_omitted(
    now: datetime,
) -> None:
    from kubespark.apisurface.model import GroupVersionKind, ListType, Schema, SchemaKind, TypeDef
    from kubespark.kube.errors import TypedPatchRejected

    surface = load_surface("1.22")
    port = TypeDef(
        "Widget.spec.ports",
        {"port": Schema(SchemaKind.INTEGER), "protocol": Schema(SchemaKind.STRING)},
    )
    spec = TypeDef(
        "Widget.spec",
        {
            "ports": Schema(
                SchemaKind.ARRAY,
                items=Schema(SchemaKind.OBJECT, ref=port.name),
                list_type=ListType.MAP,
                list_map_keys=("port", "protocol"),
            )
        },
    )
    widget = TypeDef(
        "Widget",
        {
            "apiVersion": Schema(SchemaKind.STRING),
            "kind": Schema(SchemaKind.STRING),
            "metadata": Schema(
                SchemaKind.OBJECT, ref="io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
            ),
            "spec": Schema(SchemaKind.OBJECT, ref=spec.name),
        },
    )
    types = {t.name: t for t in (port, spec, widget)}
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"ports": [{"port": 80}]},
    }

    def target(defaults: dict[tuple[str, str], dict[str, str]]) -> PatchTarget:
        return PatchTarget(
            gvk=GroupVersionKind("example.com", "v1", "Widget"),
            resource="widgets",
            type_name="Widget",
            name="w",
            namespace="default",
            custom_resource=True,
            extra_types=types,
            extra_key_defaults=defaults,
        )

    with pytest.raises(TypedPatchRejected):
        apply_patch(
            surface,
            target({}),
            None,
            json.dumps(body),
            content_type=APPLY,
            field_manager="ci",
            now=now,
        )
    result = apply_patch(
        surface,
        target({("Widget.spec", "ports"): {"protocol": "TCP"}}),
        None,
        json.dumps(body),
        content_type=APPLY,
        field_manager="ci",
        now=now,
    )
    ports = _entries(result.object)["ci"]["fieldsV1"]["f:spec"]["f:ports"]
    assert list(ports) == ['k:{"port":80,"protocol":"TCP"}']
