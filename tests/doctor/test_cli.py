"""kubespark doctor on files, stdin and documents: output, JSON and exit codes."""

# ruff: noqa: E501  (APP_YAML is one kubectl line, as kubectl prints it)
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from doctor.excerpts import load
from kubespark.cli.app import app

runner = CliRunner()

APP_YAML = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: spark-pi
  namespace: spark
spec:
  sparkVersion: "3.5.1"
  image: spark:3.5.1
status:
  applicationState:
    state: SUBMISSION_FAILED
    errorMessage: "failed to run spark-submit for SparkApplication spark/spark-pi: Exception in thread \\"main\\" io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: PATCH at: https://10.96.0.1/api/v1/namespaces/spark/services/spark-pi-driver-svc?fieldManager=fabric8\\u0026force=true. Message: failed to create typed patch object: errors:\\n  .spec.ports: element 0: associative list with keys has an element that omits key field \\"protocol\\"\\n  .spec.ipFamilies: field not declared in schema. Received status: Status(apiVersion=v1, code=500, reason=InternalError)"
---
kind: Status
gitVersion: v1.19.16
"""


def test_diagnoses_a_file_with_exit_1(tmp_path: Path) -> None:
    log = tmp_path / "operator.log"
    log.write_text(load("spark35-ssa-old-k8s--kubeflow-2048").text)
    result = runner.invoke(app, ["doctor", str(log)])
    assert result.exit_code == 1, result.output
    assert "spark35-ssa-old-k8s" in result.output
    assert "protocol-key-without-default" in result.output
    assert "[upgrade]" in result.output  # ranked remedies with their cost
    assert "PATCH services spark/spark-pi-358e258fec637e87-driver-svc" in result.output


def test_reads_stdin_and_finds_nothing_in_a_clean_log() -> None:
    result = runner.invoke(app, ["doctor", "-"], input="24/06/06 INFO Spark: all good\n")
    assert result.exit_code == 0, result.output
    assert "no failure found" in result.output


def test_unmatched_failure_still_gives_the_useful_part() -> None:
    text = (
        "24/06/06 07:11:34 WARN NativeCodeLoader: Unable to load native-hadoop library\n"
        'Exception in thread "main" io.fabric8.kubernetes.client.KubernetesClientException: '
        "Failure executing: DELETE at: https://10.0.0.1/api/v1/namespaces/x/configmaps/y. "
        "Message: something new. Received status: Status(apiVersion=v1, code=418, reason=Teapot)\n"
    )
    result = runner.invoke(app, ["doctor", "-o", "json"], input=text)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["diagnoses"] == []
    first = data["failure"]["first_error"]
    assert first["line"]["line"] == 2
    assert first["api"]["verb"] == "DELETE"
    assert first["api"]["resource"] == "configmaps"
    assert first["api"]["status"] == 418


def test_sparkapplication_yaml_with_escaped_error_message_and_versions(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(APP_YAML)
    result = runner.invoke(app, ["doctor", str(path), "-o", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["sources"][0]["kind"] == "document"
    diagnosis = data["diagnoses"][0]
    assert diagnosis["issue"] == "spark35-ssa-old-k8s"
    assert diagnosis["confidence"] == "diagnosed"
    reasons = {r["id"] for r in diagnosis["reasons"]}
    assert reasons == {"ipfamilies-not-in-schema", "protocol-key-without-default"}
    evidence = diagnosis["reasons"][0]["evidence"][0]
    assert evidence["path"] == "status.applicationState.errorMessage"
    assert evidence["part"] >= 2
    assert diagnosis["consistency"]["verdict"] == "consistent"
    assert any("1.19.16" in why for why in diagnosis["consistency"]["why"])
    versions = {(v["component"], v["version"]) for v in data["versions"]}
    assert ("spark", "3.5.1") in versions and ("kubernetes", "1.19.16") in versions


def test_versions_outside_the_issue_make_it_only_possible(tmp_path: Path) -> None:
    path = tmp_path / "new.log"
    path.write_text("Server Version: v1.27.3\n" + load("spark35-ssa-old-k8s--kubeflow-2048").text)
    data = json.loads(runner.invoke(app, ["doctor", str(path), "-o", "json"]).output)
    diagnosis = data["diagnoses"][0]
    assert diagnosis["issue"] == "spark35-ssa-old-k8s"
    assert diagnosis["confidence"] == "possible"
    assert diagnosis["consistency"]["verdict"] == "inconsistent"


def test_input_errors_exit_2_with_one_message(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["doctor", str(tmp_path / "nope.log")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    directory = runner.invoke(app, ["doctor", str(tmp_path)])
    assert directory.exit_code == 2
    assert "is a directory" in directory.output
    both = runner.invoke(app, ["doctor", "x.log", "--app", "spark-pi"])
    assert both.exit_code == 2
