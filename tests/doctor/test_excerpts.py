"""Every known issue beyond the seed's is diagnosed from a real excerpt of its own sources.

Each file in tests/doctor/excerpts is text quoted in a public issue thread (its URL heads the
file). The doctor must name the issue (and the reason, where it has several) from that text
alone, the excerpt's URL must be among the issue's sources, and versions the text shows must be
judged against the issue's affected ranges.
"""

from __future__ import annotations

import pytest

from doctor.excerpts import all_names, load
from doctor.realworld import SAMPLES, load_cases
from kubespark.doctor.engine import examine_text
from kubespark.doctor.unescape import unescape
from kubespark.knowledge import load_knowledge

# excerpt -> (issue, reasons that must match, confidence)
EXPECTED: dict[str, tuple[str, set[str], str]] = {
    "spark35-ssa-old-k8s--kubeflow-2048": (
        "spark35-ssa-old-k8s",
        {"ipfamilies-not-in-schema", "protocol-key-without-default"},
        "diagnosed",
    ),
    "spark35-ssa-old-k8s--kubeflow-2051": ("spark35-ssa-old-k8s", set(), "possible"),
    "operator-ingress-k8s122--kubeflow-1426": ("operator-ingress-k8s122", set(), "diagnosed"),
    "operator-v2-ingress-capability--kubeflow-2194": (
        "operator-v2-ingress-capability",
        set(),
        "diagnosed",
    ),
    "operator-v2-ui-service-name-too-long--kubeflow-2260": (
        "operator-v2-ui-service-name-too-long",
        set(),
        "diagnosed",
    ),
    "operator-v2-ui-service-name-too-long--kubeflow-2291": (
        "operator-v2-ui-service-name-too-long",
        set(),
        "diagnosed",
    ),
    "driver-rbac-forbidden--kubeflow-755": (
        "driver-rbac-forbidden",
        {"cannot-read-driver-pod"},
        "diagnosed",
    ),
    "driver-rbac-forbidden--operate-first-241": (
        "driver-rbac-forbidden",
        {"cannot-create-executor-pods"},
        "diagnosed",
    ),
    "spark-file-upload-path-missing--kubeflow-1474": (
        "spark-file-upload-path-missing",
        set(),
        "diagnosed",
    ),
    "container-oom-killed--kubeflow-766": (
        "container-oom-killed",
        {"executor-exit-137"},
        "diagnosed",
    ),
    "container-oom-killed--spark-pr-38233": (
        "container-oom-killed",
        {"executor-exit-137"},
        "diagnosed",
    ),
    "pod-evicted-ephemeral-storage--kubeflow-772": (
        "pod-evicted-ephemeral-storage",
        set(),
        "diagnosed",
    ),
    "driver-dns-unresolved--ballista-53": (
        "driver-dns-unresolved",
        {"driver-service-unresolved"},
        "diagnosed",
    ),
    "operator-webhook-unreachable--kubeflow-774": (
        "operator-webhook-unreachable",
        {"webhook-call-failed"},
        "diagnosed",
    ),
    "operator-webhook-unreachable--kubeflow-1269": (
        "operator-webhook-unreachable",
        {"webhook-certs-missing"},
        "diagnosed",
    ),
    "resource-quota-limits-required--kubeflow-810": (
        "resource-quota-limits-required",
        set(),
        "diagnosed",
    ),
    "cpu-request-above-limit--kubeflow-1122": ("cpu-request-above-limit", set(), "diagnosed"),
    "watch-too-old-resource-version--kubeflow-1498": (
        "watch-too-old-resource-version",
        set(),
        "diagnosed",
    ),
    "watch-too-old-resource-version--fabric8-2727": (
        "watch-too-old-resource-version",
        set(),
        "diagnosed",
    ),
    "driver-configmap-not-found--kubeflow-1574": ("driver-configmap-not-found", set(), "diagnosed"),
}

SEED = {
    "spark35-ssa-old-k8s",
    "fabric8-41x-403-watch",
    "jdk8u252-http2-k8s117",
    "operator-crd-k8s118-listmap-default",
    "operator-webhook-k8s122",
    "operator-ingress-k8s122",
    "operator-crd-v1beta1-k8s122",
    "operator-pdb-policy-v1",
    "fabric8-412-k8s123",
}


def test_every_excerpt_file_has_an_expectation() -> None:
    assert set(all_names()) == set(EXPECTED)


def test_at_least_ten_issues_beyond_the_seed_are_covered_by_excerpts() -> None:
    kb_ids = {i.id for i in load_knowledge().issues}
    covered = {issue for issue, _, _ in EXPECTED.values()} - SEED
    assert covered <= kb_ids
    assert len(covered) >= 10
    new = kb_ids - SEED
    # The real-world corpus (tests/doctor/corpus) covers the issues added after these files.
    covered |= {c.issue for s in SAMPLES for c in load_cases(s) if c.issue}
    assert new <= covered, f"issues without a real excerpt: {sorted(new - covered)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_excerpt_is_diagnosed_as_its_issue(name: str) -> None:
    excerpt = load(name)
    issue_id, reasons, confidence = EXPECTED[name]
    issue = load_knowledge().issue(issue_id)
    cited = {s.url for s in issue.sources} | {s.url for r in issue.reasons for s in r.sources}
    assert excerpt.source in cited, f"{excerpt.source} is not among {issue_id}'s sources"

    report = examine_text(excerpt.text, name)
    found = report.diagnosis(issue_id)
    assert found is not None, [d.issue.id for d in report.diagnoses]
    assert found.confidence == confidence
    assert {r.reason.id for r in found.reasons} == reasons
    assert report.found
    # The issue diagnosed from its own excerpt ranks first.
    assert report.diagnoses[0].issue.id == issue_id
    # Evidence is the excerpt's own text (unescaped where the log escaped it).
    plain = excerpt.text + unescape(excerpt.text)
    for evidence in found.all_evidence():
        assert evidence.line.text.strip() in plain
