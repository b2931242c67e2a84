"""apiVersion mapping: each known conversion on real schemas, both ways, and where it refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubespark.apisurface import GroupVersionKind, check_object, load_surface, served_in
from kubespark.compat import CONVERSIONS, NoteCode, PlanError, plan_writes


def plan_one(obj: dict[str, Any], version: str, intent: str = "create") -> Any:
    (write,) = plan_writes([obj], load_surface(version), intent).writes
    return write


def notes_of(write: Any, code: NoteCode) -> list[str]:
    return [n.path for n in write.notes if n.code is code]


def test_every_conversion_names_its_source_and_kinds_that_exist() -> None:
    for c in CONVERSIONS:
        assert c.reference, c
        for api_version in (c.source, c.target):
            gvk = GroupVersionKind.from_api_version(api_version, c.kind)
            assert served_in(gvk), f"{gvk} is served by no bundled version"


# --- Ingress -------------------------------------------------------------------------------------

V1BETA1_INGRESS: dict[str, Any] = {
    "apiVersion": "extensions/v1beta1",
    "kind": "Ingress",
    "metadata": {"name": "ui", "namespace": "web"},
    "spec": {
        "backend": {"serviceName": "fallback", "servicePort": 8080},
        "tls": [{"hosts": ["a.example"], "secretName": "tls"}],
        "rules": [
            {
                "host": "a.example",
                "http": {
                    "paths": [
                        {"path": "/", "backend": {"serviceName": "ui", "servicePort": "http"}},
                        {
                            "path": "/api",
                            "pathType": "ImplementationSpecific",
                            "backend": {"serviceName": "api", "servicePort": 80},
                        },
                    ]
                },
            }
        ],
    },
}


@pytest.mark.parametrize("source", ["extensions/v1beta1", "networking.k8s.io/v1beta1"])
def test_ingress_v1beta1_becomes_networking_v1_where_only_that_is_served(source: str) -> None:
    given_ = {**V1BETA1_INGRESS, "apiVersion": source}
    write = plan_one(given_, "1.22")
    assert write.request.path == "/apis/networking.k8s.io/v1/namespaces/web/ingresses"
    assert write.body == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "ui", "namespace": "web"},
        "spec": {
            "defaultBackend": {"service": {"name": "fallback", "port": {"number": 8080}}},
            "tls": [{"hosts": ["a.example"], "secretName": "tls"}],
            "rules": [
                {
                    "host": "a.example",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": "ui", "port": {"name": "http"}}},
                            },
                            {
                                "path": "/api",
                                "pathType": "ImplementationSpecific",
                                "backend": {"service": {"name": "api", "port": {"number": 80}}},
                            },
                        ]
                    },
                }
            ],
        },
    }
    assert check_object(load_surface("1.22"), write.body) == []
    (mapped,) = [n for n in write.notes if n.code is NoteCode.MAPPED_API_VERSION]
    assert "removed in 1.22" in mapped.message
    assert f"does not serve {source} Ingress" in mapped.message
    assert ".spec.rules[0].http.paths[0].pathType" in notes_of(write, NoteCode.CONVERTED_FIELD)
    assert given_["spec"]["backend"] == {"serviceName": "fallback", "servicePort": 8080}


def test_ingress_is_kept_where_the_server_serves_it() -> None:
    write = plan_one(V1BETA1_INGRESS, "1.19")
    assert write.body == V1BETA1_INGRESS
    assert write.notes == ()


def test_networking_v1_ingress_goes_back_to_v1beta1_on_old_servers() -> None:
    v1 = plan_one(V1BETA1_INGRESS, "1.22").body
    back = plan_one(v1, "1.18")
    assert back.body["apiVersion"] == "networking.k8s.io/v1beta1"  # preferred over extensions
    expected = copy.deepcopy(V1BETA1_INGRESS)
    expected["apiVersion"] = "networking.k8s.io/v1beta1"
    expected["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = "ImplementationSpecific"
    assert back.body == expected
    assert check_object(load_surface("1.18"), back.body) == []

    # 1.16 has no pathType: ImplementationSpecific is all it does, so dropping it loses nothing.
    oldest = plan_one(v1, "1.16")
    assert all("pathType" not in p for p in oldest.body["spec"]["rules"][0]["http"]["paths"])
    assert check_object(load_surface("1.16"), oldest.body) == []


def test_ingress_class_name_becomes_the_class_annotation_before_1_18() -> None:
    v1 = copy.deepcopy(plan_one(V1BETA1_INGRESS, "1.22").body)
    v1["spec"]["ingressClassName"] = "nginx"
    write = plan_one(v1, "1.17")
    assert write.body["metadata"]["annotations"] == {"kubernetes.io/ingress.class": "nginx"}
    assert "ingressClassName" not in write.body["spec"]
    assert plan_one(v1, "1.18").body["spec"]["ingressClassName"] == "nginx"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s["rules"][0]["http"]["paths"][0].update(pathType="Prefix"), "pathType Prefix"),
        (
            lambda s: s.update(defaultBackend={"resource": {"kind": "Bucket", "name": "b"}}),
            "resource backend",
        ),
    ],
)
def test_ingress_meaning_that_old_versions_cannot_hold_is_refused(change: Any, reason: str) -> None:
    v1 = copy.deepcopy(plan_one(V1BETA1_INGRESS, "1.22").body)
    change(v1["spec"])
    with pytest.raises(PlanError) as caught:
        plan_one(v1, "1.17")
    assert reason in caught.value.message
    assert "networking.k8s.io/v1 Ingress is not served by Kubernetes 1.17" in caught.value.message


_port = st.one_of(st.integers(1, 65535), st.sampled_from(["http", "https", "grpc"]))
_backend = st.fixed_dictionaries(
    {"serviceName": st.sampled_from(["a", "b", "svc-1"]), "servicePort": _port}
)
_path = st.fixed_dictionaries(
    {"backend": _backend},
    optional={"path": st.sampled_from(["/", "/api", "/x/y"])},
)
_ingress = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["extensions/v1beta1", "networking.k8s.io/v1beta1"]),
        "kind": st.just("Ingress"),
        "metadata": st.just({"name": "i"}),
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "backend": _backend,
                "rules": st.lists(
                    st.fixed_dictionaries(
                        {"http": st.fixed_dictionaries({"paths": st.lists(_path, max_size=3)})},
                        optional={"host": st.sampled_from(["a.example", "b.example"])},
                    ),
                    max_size=3,
                ),
            },
        ),
    }
)


@given(_ingress)
def test_ingress_round_trip_through_v1_keeps_everything(ingress: dict[str, Any]) -> None:
    v1 = plan_one(ingress, "1.25").body
    assert check_object(load_surface("1.25"), v1) == []
    back = plan_one(v1, "1.18").body
    expected = copy.deepcopy(ingress)
    expected["apiVersion"] = "networking.k8s.io/v1beta1"
    for rule in expected["spec"].get("rules", []):
        for path in rule["http"]["paths"]:
            path["pathType"] = "ImplementationSpecific"  # the v1beta1 default, now explicit
    assert back == expected


# --- PodDisruptionBudget -------------------------------------------------------------------------

SENTINEL = "pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match"


def pdb(api_version: str, selector: Any = ...) -> dict[str, Any]:
    spec: dict[str, Any] = {"minAvailable": 1}
    if selector is not ...:
        spec["selector"] = selector
    return {
        "apiVersion": api_version,
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "p", "namespace": "n"},
        "spec": spec,
    }


def test_pdb_with_a_selector_maps_unchanged_both_ways() -> None:
    selector = {"matchLabels": {"app": "web"}}
    up = plan_one(pdb("policy/v1beta1", selector), "1.25")
    assert up.body == pdb("policy/v1", selector)
    down = plan_one(pdb("policy/v1", selector), "1.20")
    assert down.body == pdb("policy/v1beta1", selector)
    assert plan_one(pdb("policy/v1beta1"), "1.25").body == pdb("policy/v1")  # unset: no pods


def test_pdb_empty_selector_keeps_its_meaning_with_the_servers_sentinel() -> None:
    # v1beta1 {} selects no pods; in v1 that is "the sentinel label Exists".
    up = plan_one(pdb("policy/v1beta1", {}), "1.25")
    assert up.body["spec"]["selector"] == {
        "matchExpressions": [{"key": SENTINEL, "operator": "Exists"}]
    }
    assert ".spec.selector" in notes_of(up, NoteCode.CONVERTED_FIELD)
    # v1 {} selects all pods; in v1beta1 that is "the sentinel label DoesNotExist".
    down = plan_one(pdb("policy/v1", {}), "1.20")
    assert down.body["spec"]["selector"] == {
        "matchExpressions": [{"key": SENTINEL, "operator": "DoesNotExist"}]
    }
    # And back: each sentinel is the other version's {}.
    assert plan_one(up.body, "1.20").body == pdb("policy/v1beta1", {})
    assert plan_one(down.body, "1.25").body == pdb("policy/v1", {})


# --- CronJob, RBAC -------------------------------------------------------------------------------

CRONJOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "nightly", "namespace": "jobs"},
    "spec": {
        "schedule": "0 3 * * *",
        "concurrencyPolicy": "Forbid",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [{"name": "c", "image": "busybox", "args": ["date"]}],
                    }
                }
            }
        },
    },
}


def test_cronjob_maps_between_batch_v1_and_v1beta1() -> None:
    down = plan_one(CRONJOB, "1.20")
    assert down.body == {**CRONJOB, "apiVersion": "batch/v1beta1"}
    assert down.request.path == "/apis/batch/v1beta1/namespaces/jobs/cronjobs"
    assert check_object(load_surface("1.20"), down.body) == []
    up = plan_one(down.body, "1.25")
    assert up.body == CRONJOB


def test_rbac_v1beta1_is_written_as_v1_after_its_removal() -> None:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1beta1",
        "kind": "ClusterRole",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    write = plan_one(role, "1.22", "apply")
    assert write.body == {**role, "apiVersion": "rbac.authorization.k8s.io/v1"}
    assert write.request.path == "/apis/rbac.authorization.k8s.io/v1/clusterroles/reader"


# --- CustomResourceDefinition --------------------------------------------------------------------

CRD_V1BETA1: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1beta1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "version": "v1",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "subresources": {"status": {}},
        "additionalPrinterColumns": [{"name": "Size", "type": "integer", "JSONPath": ".spec.size"}],
        "validation": {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"size": {"type": "integer", "minimum": 1}},
                    }
                },
            }
        },
    },
}


def test_crd_v1beta1_becomes_v1_with_per_version_schema() -> None:
    write = plan_one(CRD_V1BETA1, "1.22")
    spec = write.body["spec"]
    assert write.body["apiVersion"] == "apiextensions.k8s.io/v1"
    assert "version" not in spec and "validation" not in spec and "subresources" not in spec
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1", True, True)
    assert version["subresources"] == {"status": {}}
    assert version["additionalPrinterColumns"] == [
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}
    ]
    schema = version["schema"]["openAPIV3Schema"]
    # v1beta1 kept unknown fields by default; v1 would prune them: kept explicitly everywhere.
    assert schema["x-kubernetes-preserve-unknown-fields"] is True
    assert schema["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"] is True
    assert schema["properties"]["spec"]["properties"]["size"] == {"type": "integer", "minimum": 1}
    assert check_object(load_surface("1.22"), write.body) == []


def test_crd_that_prunes_keeps_its_schema_as_is_and_webhook_config_moves() -> None:
    crd = copy.deepcopy(CRD_V1BETA1)
    crd["spec"]["preserveUnknownFields"] = False
    crd["spec"]["conversion"] = {
        "strategy": "Webhook",
        "webhookClientConfig": {"service": {"name": "conv", "namespace": "x"}},
    }
    spec = plan_one(crd, "1.22").body["spec"]
    schema = spec["versions"][0]["schema"]["openAPIV3Schema"]
    assert schema == CRD_V1BETA1["spec"]["validation"]["openAPIV3Schema"]
    assert "preserveUnknownFields" not in spec
    assert spec["conversion"] == {
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": {"service": {"name": "conv", "namespace": "x"}},
            "conversionReviewVersions": ["v1beta1"],
        },
    }


def test_crd_without_schema_gets_one_that_accepts_anything() -> None:
    crd = copy.deepcopy(CRD_V1BETA1)
    del crd["spec"]["validation"]
    version = plan_one(crd, "1.22").body["spec"]["versions"][0]
    assert version["schema"] == {
        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    }


def test_crd_with_a_non_structural_schema_cannot_become_v1() -> None:
    crd = copy.deepcopy(CRD_V1BETA1)
    crd["spec"]["validation"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"] = {
        "minimum": 1
    }
    with pytest.raises(PlanError) as caught:
        plan_one(crd, "1.22")
    assert "properties.spec.properties.size has no type" in caught.value.message
    # Where v1beta1 is still served, it is written as it is.
    assert plan_one(crd, "1.21").body == crd
