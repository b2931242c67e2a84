"""The generic fallback: each common API answer gets a cause and a next step in its own terms."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app
from kubespark.doctor.engine import examine_text
from kubespark.doctor.generic import load_classes

CASES = [
    (
        'Error from server: admission webhook "policy.example.com" denied the request: '
        "runAsNonRoot is required",
        "webhook-denied",
        "policy.example.com",
    ),
    (
        'ERROR pods "x-exec-3" is forbidden: exceeded quota: team-q, requested: cpu=2',
        "quota",
        "team-q",
    ),
    (
        "Caused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed",
        "tls",
        "caCertFile",
    ),
    (
        "Caused by: java.net.ConnectException: Connection refused (Connection refused)",
        "connection",
        "master URL",
    ),
    (
        "io.fabric8.kubernetes.client.KubernetesClientException: Unauthorized",
        "unauthorized",
        "401",
    ),
    (
        'Error from server (Forbidden): secrets is forbidden: User "alice" cannot list resource '
        '"secrets" in API group "" in the namespace "prod"',
        "forbidden",
        "alice",
    ),
    (
        'error: unable to recognize "x.yaml": no matches for kind "Widget" in version '
        '"example.com/v1"',
        "no-kind-match",
        "Widget",
    ),
    (
        'Error from server (BadRequest): Foo in version "v1" cannot be handled as a Foo: '
        'strict decoding error: unknown field "spec.bar"',
        "strict-decoding",
        "spec.bar",
    ),
    (
        'ERROR Service "a_b" is invalid: metadata.name: Invalid value: "a_b": a DNS-1035 label',
        "invalid",
        "a_b",
    ),
    (
        'ERROR Operation failed: configmaps "app-conf" already exists',
        "conflict",
        "409",
    ),
    (
        "WARN WatchConnectionManager: Exec Failure: HTTP 410, Status: 410 - too old resource "
        "version: 5 (9)",
        "gone",
        "410",
    ),
    (
        "ERROR the server could not find the requested resource (get widgets.example.com)",
        "not-found",
        "404",
    ),
]


@pytest.mark.parametrize(("text", "cls", "words"), CASES, ids=[c[1] for c in CASES])
def test_each_common_answer_has_a_cause_and_a_next_step(text: str, cls: str, words: str) -> None:
    report = examine_text(text)
    assert report.found
    generic = report.generic
    assert generic is not None, report.failure
    assert generic.id == cls
    said = f"{generic.cause} {generic.next_step} {generic.status}"
    assert words in said
    assert generic.next_step


def test_every_class_is_exercised() -> None:
    assert {c.id for c in load_classes()} - {c[1] for c in CASES} <= {"forbidden-admission"}


def test_no_failure_no_generic_cause() -> None:
    assert examine_text("INFO SparkContext: Running Spark version 3.5.1\n").generic is None


def test_json_and_text_carry_the_generic_cause() -> None:
    text = CASES[5][0] + "\n"
    out = CliRunner().invoke(app, ["doctor", "-", "-o", "json"], input=text)
    assert out.exit_code == 1
    data = json.loads(out.output)
    assert data["generic"]["class"] == "forbidden"
    assert data["generic"]["status"] == 403
    shown = CliRunner().invoke(app, ["doctor", "-"], input=text)
    assert "RBAC refused alice: it may not list secrets" in shown.output
    assert "kubectl auth can-i list secrets --as alice" in shown.output
