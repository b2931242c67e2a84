"""spark.yaml agrees with what the real spark-submit sent (captured requests in traces/).

Each trace is one submission by the spark-submit of a pyspark release. The data's write methods,
the resources written and the fields that old servers lack must match the captured bodies, so the
knowledge base cannot drift from what Spark really does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubespark.knowledge import load_knowledge
from kubespark.knowledge.schema import FactRef
from kubespark.versions import Coverage, Version, parse_spark_version

TRACES = sorted((Path(__file__).parent / "traces").glob("spark-*.jsonl"))
Requests = list[dict[str, Any]]


def _requests(trace: Path) -> Requests:
    return [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]


def _version(trace: Path) -> Version:
    return parse_spark_version(trace.stem.removeprefix("spark-"))


def _method(request: dict[str, Any]) -> str:
    if request["method"] == "POST":
        return "create"
    assert request["method"] == "PATCH"
    assert request["content_type"].startswith("application/apply-patch+yaml")
    assert "fieldManager=fabric8&force=true" in request["path"]
    return "apply"


def _bodies(requests: Requests, kind: str) -> list[dict[str, Any]]:
    return [r["body"] for r in requests if r["body"].get("kind") == kind]


def _service_ports(requests: Requests) -> list[dict[str, Any]]:
    return [p for s in _bodies(requests, "Service") for p in s["spec"]["ports"]]


# How each fact a Spark release "needs" shows in the captured bodies.
PROBES: dict[str, Callable[[Requests], bool]] = {
    "service-ipfamilies": lambda rs: all("ipFamilies" in s["spec"] for s in _bodies(rs, "Service")),
    "serviceport-protocol-apply-default": lambda rs: all(
        "protocol" not in p for p in _service_ports(rs)
    ),
    "configmap-immutable": lambda rs: all(
        c.get("immutable") is True for c in _bodies(rs, "ConfigMap")
    ),
    "serviceport-appprotocol": lambda rs: any("appProtocol" in p for p in _service_ports(rs)),
    "networking-v1-networkpolicy": lambda rs: bool(_bodies(rs, "NetworkPolicy")),
}


def test_there_are_traces_to_check() -> None:
    assert {t.stem for t in TRACES} >= {"spark-3.4.4", "spark-3.5.1", "spark-4.3.0"}


@pytest.mark.parametrize("trace", TRACES, ids=lambda t: t.stem)
def test_write_methods_match_the_capture(trace: Path) -> None:
    requests = _requests(trace)
    captured = {r["body"]["kind"]: _method(r) for r in requests}
    assert load_knowledge().spark_release(_version(trace)).writes == captured


@pytest.mark.parametrize("trace", TRACES, ids=lambda t: t.stem)
def test_needed_facts_match_the_capture(trace: Path) -> None:
    kb = load_knowledge()
    version, requests = _version(trace), _requests(trace)
    for need in kb.spark.needs:
        shows = PROBES[need.fact](requests)
        assert shows == need.spark.contains(version), f"{need.fact} ({need.spark}) vs {trace.name}"


def test_every_need_has_a_probe() -> None:
    assert {n.fact for n in load_knowledge().spark.needs} <= set(PROBES)


def test_the_ssa_issue_covers_exactly_the_releases_that_apply() -> None:
    """spark35-ssa-old-k8s's Spark range = the releases whose spark-submit applies anything."""
    kb = load_knowledge()
    issue = kb.issue("spark35-ssa-old-k8s")
    assert issue.affects.spark is not None
    for release in kb.spark_releases:
        applies = "apply" in kb.spark_release(release).writes.values()
        in_range = any(r.coverage(release) is Coverage.ALL for r in issue.affects.spark)
        assert applies == in_range, release


def test_every_field_an_applied_body_needs_has_a_reason() -> None:
    """A fact an applied resource needs must be named by one of the SSA issue's reasons."""
    kb = load_knowledge()
    issue = kb.issue("spark35-ssa-old-k8s")
    lacks = {
        r.affects.kubernetes.lacks
        for r in issue.reasons
        if isinstance(r.affects.kubernetes, FactRef) and r.affects.kubernetes.lacks
    }
    for release in kb.spark_releases:
        data = kb.spark_release(release)
        for need in data.needs:
            if data.writes[need.resource] == "apply" and need.how != "writes":
                assert need.fact in lacks, f"Spark {release} applies {need.resource}: {need.fact}"


# The driver builder keeps its own catalogue of what spark-submit emits (driver/data); the two
# must agree on every release wherever they describe the same thing.
DRIVER_BEHAVIOUR_FOR_NEED = {
    "service-ipfamilies": "service_ip_families",
    "configmap-immutable": "configmap_immutable",
    "serviceport-appprotocol": "spark_connect_app_protocol",
    "networking-v1-networkpolicy": "network_policy",
}


def test_needs_agree_with_the_driver_builders_behaviours() -> None:
    from kubespark.driver.spark_behaviours import behaviours_for

    kb = load_knowledge()
    needs = {n.fact: n for n in kb.spark.needs}
    for release in kb.spark_releases:
        behaviours = behaviours_for(release)
        for fact, behaviour in DRIVER_BEHAVIOUR_FOR_NEED.items():
            assert needs[fact].spark.contains(release) == behaviours.has(behaviour), (
                f"Spark {release}: spark.yaml need {fact} vs driver behaviour {behaviour}"
            )
