"""The decision on one server-side apply, per server version, from what spark-submit really sends
(its recorded requests) and from bodies built to cross each rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kubespark.apisurface import load_surface
from kubespark.compat import ConflictAction, NoteCode
from kubespark.proxy import Forward, Refuse, Rewrite, RewriteAs, decide_apply
from kubespark.proxy.applies import apply_target
from kubespark.proxy.messages import ClientRequest

TRACES = Path(__file__).resolve().parents[1] / "driver" / "conformance" / "traces" / "reference"
APPLY = "application/apply-patch+yaml; charset=utf-8"


def recorded(spark: str, kind: str) -> tuple[str, dict[str, Any]]:
    """The path and body of the apply spark-submit ``spark`` sent for ``kind``."""
    for line in (TRACES / f"spark-{spark}.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("method") == "PATCH" and entry["body"].get("kind") == kind:
            return entry["path"], entry["body"]
    raise AssertionError(f"no {kind} apply in the spark-{spark} trace")


def request(path: str, body: Any, media: str = APPLY, method: str = "PATCH") -> ClientRequest:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ClientRequest(method, path.encode(), ((b"content-type", media.encode()),), data)


def service(**spec: Any) -> dict[str, Any]:
    base = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc"},
        "spec": {"clusterIP": "None", "ports": [{"port": 80, "protocol": "TCP"}]},
    }
    base["spec"].update(spec)
    return base


SVC = "/api/v1/namespaces/ns/services/svc?fieldManager=me&force=true"


def without_new_fields(body: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(body)
    del out["spec"]["ipFamilies"], out["spec"]["ipFamilyPolicy"]
    return out


@pytest.mark.parametrize("spark", ["3.5.1", "4.0.5"])
def test_spark_submits_service_on_119_is_applied_without_the_new_fields(spark: str) -> None:
    path, body = recorded(spark, "Service")
    decision = decide_apply(load_surface("1.19"), request(path + "&dryRun=All", body))
    assert isinstance(decision, Rewrite)
    apply = decision.apply
    assert apply is not None
    assert (apply.method, apply.path, apply.content_type) == (
        "PATCH",
        path.split("?")[0],
        "application/apply-patch+yaml",
    )
    # The client's manager, force and dry run; the body without what 1.19 cannot type, and with
    # the list-map key 1.19's apply needs (the value every version defaults it to).
    assert apply.query == (("fieldManager", "fabric8"), ("force", "true"), ("dryRun", "All"))
    expected = without_new_fields(body)
    for port in expected["spec"]["ports"]:
        port["protocol"] = "TCP"
    assert apply.body == expected
    codes = [n.code for n in decision.write.notes]
    assert NoteCode.APPLY_WOULD_FAIL in codes
    warnings = decision.warnings("applied")
    assert any(".spec.ipFamilies: field not declared in schema" in w for w in warnings)
    assert any(
        "applied the Service without spec.ipFamilies (added in 1.20), spec.ipFamilyPolicy "
        "(added in 1.20), which this server can type" in w
        for w in warnings
    )
    assert sum("filled spec.ports[" in w for w in warnings) == len(body["spec"]["ports"])


@pytest.mark.parametrize("spark", ["3.5.1", "4.0.5"])
def test_as_the_planner_plans_it_the_service_is_created_without_the_new_fields(spark: str) -> None:
    path, body = recorded(spark, "Service")
    decision = decide_apply(
        load_surface("1.19"), request(path + "&dryRun=All", body), RewriteAs.CREATE
    )
    assert isinstance(decision, Rewrite)
    assert decision.apply is None
    write = decision.write
    assert write.request.method == "POST"
    assert write.request.path == "/api/v1/namespaces/spark-jobs/services"
    assert ("fieldManager", "fabric8") in write.request.query
    assert ("dryRun", "All") in write.request.query  # the client's dry run is kept
    assert write.body == without_new_fields(body)  # nothing else changes
    assert write.on_conflict.action is ConflictAction.MERGE_PATCH
    assert write.on_conflict.then is not None
    assert write.on_conflict.then.path == path.split("?")[0]
    assert ("dryRun", "All") in write.on_conflict.then.query
    assert any(
        "created the Service with POST instead of apply without spec.ipFamilies" in w
        for w in decision.warnings("created")
    )


@pytest.mark.parametrize("spark", ["3.5.1", "4.0.5"])
def test_on_120_before_the_backport_the_protocol_key_is_filled_and_apply_kept(spark: str) -> None:
    path, body = recorded(spark, "Service")
    decision = decide_apply(load_surface("1.20.5"), request(path, body))
    assert isinstance(decision, Rewrite)
    write = decision.write
    assert write.request.content_type == "application/apply-patch+yaml"
    assert write.request.path == path.split("?")[0]
    assert [p["protocol"] for p in write.body["spec"]["ports"]] == ["TCP"] * len(
        body["spec"]["ports"]
    )
    assert write.body["spec"]["ipFamilies"] == ["IPv4"]  # 1.20 has the field: kept
    assert [n.code for n in write.notes].count(NoteCode.FILLED_LIST_MAP_KEY) == len(
        body["spec"]["ports"]
    )


@pytest.mark.parametrize("version", ["1.20.6", "1.21", "1.30"])
@pytest.mark.parametrize("kind", ["Service", "ConfigMap"])
def test_applies_the_server_takes_are_forwarded(version: str, kind: str) -> None:
    path, body = recorded("3.5.1", kind)
    decision = decide_apply(load_surface(version), request(path, body))
    assert isinstance(decision, Forward)
    assert "takes the apply as it is" in decision.reason


def test_a_configmap_is_forwarded_even_on_119() -> None:
    path, body = recorded("3.5.1", "ConfigMap")
    assert isinstance(decide_apply(load_surface("1.19"), request(path, body)), Forward)


# --- the loss rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        {"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]},
        {"ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv6"]},
        {"ipFamilyPolicy": None, "ipFamilies": []},
        {"type": "ClusterIP", "internalTrafficPolicy": "Cluster"},  # the newest default
    ],
)
def test_dropping_values_that_change_nothing_is_allowed(spec: dict[str, Any]) -> None:
    decision = decide_apply(load_surface("1.19"), request(SVC, service(**spec)))
    assert isinstance(decision, Rewrite), decision
    assert decision.apply is not None
    new_in_later_versions = {"ipFamilyPolicy", "ipFamilies", "internalTrafficPolicy"}
    assert not new_in_later_versions & set(decision.apply.body["spec"])


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"ipFamilyPolicy": "RequireDualStack"}, "spec.ipFamilyPolicy"),
        ({"ipFamilies": ["IPv4", "IPv6"]}, "spec.ipFamilies"),
        ({"type": "ClusterIP", "internalTrafficPolicy": "Local"}, "spec.internalTrafficPolicy"),
        ({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}, "spec.loadBalancerClass"),
    ],
)
def test_dropping_a_value_the_client_set_is_refused(spec: dict[str, Any], field: str) -> None:
    decision = decide_apply(load_surface("1.19"), request(SVC, service(**spec)))
    assert isinstance(decision, Refuse)
    status = decision.status
    assert status.code == 422 and status.reason == "Invalid"
    assert status.details is not None and status.details.kind == "Service"
    assert [c.field for c in status.details.causes or []] == [field]
    value = json.dumps(spec[field.split(".")[1]], separators=(",", ":"))
    assert f"{field}: kubespark proxy will not drop {value}: Kubernetes 1.19 lacks" in (
        status.message
    )
    assert "upgrade the cluster to Kubernetes 1." in status.message


def test_a_refusal_names_every_lost_field_and_keeps_quiet_about_harmless_ones() -> None:
    body = service(ipFamilyPolicy="RequireDualStack", ipFamilies=["IPv4", "IPv6"])
    body["spec"]["ports"][0]["appProtocol"] = "http"  # 1.19 has it (beta 1.19): not dropped
    decision = decide_apply(load_surface("1.19"), request(SVC, body))
    assert isinstance(decision, Refuse)
    assert decision.status.details is not None
    fields = sorted(c.field or "" for c in decision.status.details.causes or [])
    assert fields == ["spec.ipFamilies", "spec.ipFamilyPolicy"]


# --- what the proxy leaves to the server ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "why"),
    [
        (SVC, b"key: [unclosed", "not a YAML or JSON object"),
        (SVC, b"- a\n- b\n", "not a YAML or JSON object"),
        (SVC.replace("fieldManager=me&", ""), service(ipFamilies=["IPv4"]), "no fieldManager"),
        (SVC.replace("/svc?", "/other?"), service(ipFamilies=["IPv4"]), "metadata.name"),
        (
            SVC,
            {**service(ipFamilies=["IPv4"]), "metadata": {"name": "svc", "namespace": "elsewhere"}},
            "metadata.namespace",
        ),
        (SVC, {**service(ipFamilies=["IPv4"]), "kind": "Pod"}, "apiVersion and kind"),
        (SVC.replace("/svc?", "/svc/status?"), service(ipFamilies=["IPv4"]), "subresource"),
        ("/api/v1/namespaces/ns/widgets/w?fieldManager=m", service(), "not served"),
        (
            "/apis/policy/v1/namespaces/ns/poddisruptionbudgets/p?fieldManager=m",
            {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}},
            "not served",
        ),
    ],
)
def test_requests_the_proxy_cannot_judge_better_go_unchanged(
    path: str, body: Any, why: str
) -> None:
    decision = decide_apply(load_surface("1.19"), request(path, body))
    assert isinstance(decision, Forward)
    assert why in decision.reason


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/namespaces/ns/services/s", ("", "v1", "services", "s", "ns", "")),
        ("/api/v1/namespaces/ns/pods/p/status", ("", "v1", "pods", "p", "ns", "status")),
        ("/api/v1/namespaces/ns", ("", "v1", "namespaces", "ns", None, "")),
        ("/api/v1/namespaces/ns/status", ("", "v1", "namespaces", "ns", None, "status")),
        ("/api/v1/nodes/n1", ("", "v1", "nodes", "n1", None, "")),
        ("/apis/apps/v1/namespaces/d/deployments/x", ("apps", "v1", "deployments", "x", "d", "")),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/r",
            ("rbac.authorization.k8s.io", "v1", "clusterroles", "r", None, ""),
        ),
    ],
)
def test_paths_are_read_as_the_api_server_reads_them(path: str, expected: tuple[Any, ...]) -> None:
    target = apply_target(path)
    assert target is not None
    got = (target.group, target.version, target.plural, target.name, target.namespace)
    assert (*got, target.subresource) == expected


@pytest.mark.parametrize(
    "path", ["/api/v1/namespaces/ns/services", "/api", "/apis/apps/v1", "/healthz", "/"]
)
def test_collections_and_other_paths_name_no_object(path: str) -> None:
    assert apply_target(path) is None


def test_what_apply_typing_rejects_even_without_the_new_fields_goes_as_the_planners_post() -> None:
    """The patch engine's typed conversion has the last word on the apply the proxy would send:
    a port given as a string fails it, so the server gets the planner's POST and answers with
    its own validation error instead of the typed-patch 500."""
    body = service(ipFamilies=["IPv4"], ports=[{"port": "80"}])
    decision = decide_apply(load_surface("1.19"), request(SVC, body))
    assert isinstance(decision, Rewrite)
    assert decision.apply is None
    assert decision.write.request.method == "POST"
    assert decision.write.body["spec"]["ports"] == [{"port": "80"}]
