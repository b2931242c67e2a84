"""Server-side field defaults (data/defaults.yaml) as a version applies them on create."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubespark.apisurface import apply_defaults, check_object, load_surface
from kubespark.apisurface.defaults import defaults_sources

TRACES = Path("/work/shared/reference/spark-submit-traces")
TRACES = (
    TRACES
    if TRACES.exists()
    else Path(__file__).parents[3] / "shared/reference/spark-submit-traces"
)


def bodies(release: str) -> dict[str, dict[str, Any]]:
    out = {}
    for line in (TRACES / f"spark-{release}.jsonl").read_text().splitlines():
        body = json.loads(line)["body"]
        if isinstance(body, dict) and "kind" in body:
            out[body["kind"]] = body
    return out


def test_service_ports_get_protocol_and_target_port() -> None:
    svc = bodies("3.5.1")["Service"]
    before = copy.deepcopy(svc)
    out = apply_defaults(load_surface("1.19"), svc)
    assert svc == before
    for port in out["spec"]["ports"]:
        assert port["protocol"] == "TCP" and port["targetPort"] == port["port"]
    assert (out["spec"]["type"], out["spec"]["sessionAffinity"]) == ("ClusterIP", "None")
    assert "internalTrafficPolicy" not in out["spec"]  # its default starts in 1.22
    newer = apply_defaults(load_surface("1.22"), svc)
    assert newer["spec"]["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in newer["spec"]  # only NodePort and LoadBalancer


def test_load_balancer_service_defaults() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "targetPort": "http"}]},
    }
    out = apply_defaults(load_surface("1.25"), svc)["spec"]
    assert out["externalTrafficPolicy"] == "Cluster"
    assert out["allocateLoadBalancerNodePorts"] is True
    assert out["ports"][0]["targetPort"] == "http"  # a given targetPort stays
    assert "allocateLoadBalancerNodePorts" not in apply_defaults(load_surface("1.21"), svc)["spec"]


def test_spark_driver_pod_defaults() -> None:
    pod = bodies("3.5.1")["Pod"]
    out = apply_defaults(load_surface("1.19"), pod)
    spec = out["spec"]
    assert spec["restartPolicy"] == "Never"  # given values win
    assert (spec["dnsPolicy"], spec["schedulerName"]) == ("ClusterFirst", "default-scheduler")
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["enableServiceLinks"] is True
    container = spec["containers"][0]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["imagePullPolicy"] in ("IfNotPresent", "Always")
    assert {p["protocol"] for p in container["ports"]} == {"TCP"}
    limits = container["resources"]["limits"]
    assert all(container["resources"]["requests"][k] == v for k, v in limits.items())
    assert check_object(load_surface("1.19"), out) == []
    assert pod["spec"]["containers"][0].get("terminationMessagePath") is None  # not mutated


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("apache/spark:3.5.1", "IfNotPresent"),
        ("apache/spark", "Always"),
        ("apache/spark:latest", "Always"),
        ("registry:5000/spark", "Always"),
        ("registry:5000/spark:3.5", "IfNotPresent"),
        ("spark@sha256:" + "a" * 64, "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": image}]},
    }
    out = apply_defaults(load_surface("1.30"), pod)
    assert out["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_templates_get_spec_defaults_but_not_pod_only_ones() -> None:
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}},
        },
    }
    spec = apply_defaults(load_surface("1.30"), deploy)["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Always"
    assert "enableServiceLinks" not in spec  # SetDefaults_Pod, not SetDefaults_PodSpec


def test_sources_are_listed_and_unknown_kinds_pass_through() -> None:
    s = load_surface("1.20")
    assert any("SetDefaults_Service" in src for src in defaults_sources(s))
    odd = {"apiVersion": "example.com/v1", "kind": "Thing", "spec": {}}
    assert apply_defaults(s, odd) is odd


@given(
    st.sampled_from(["3.3.4", "3.4.4", "3.5.1", "4.0.5", "4.3.0"]),
    st.sampled_from(["1.16", "1.19", "1.20.6", "1.22", "1.37"]),
)
def test_defaulting_is_idempotent(release: str, version: str) -> None:
    s = load_surface(version)
    for body in bodies(release).values():
        once = apply_defaults(s, body)
        assert apply_defaults(s, once) == once
