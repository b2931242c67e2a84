"""Fields Spark's driver overwrites in executors: the facts, and what validate, check, submit say.

The facts (data/executor_fidelity.yaml) come from the real drivers' executor pods
(tests/realspark/test_process_kubelet.py, which reads the same file for what it expects).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.spark.executor_fidelity import executor_fields_lost, spark_release_of
from kubespark.versions import parse_spark_version

runner = CliRunner()


def _lost(spec: dict[str, Any], spark: str) -> list[str]:
    return [item.path for item in executor_fields_lost(spec, parse_spark_version(spark))]


@pytest.mark.parametrize("spark", ["3.0.3", "3.2.4", "3.4.4", "3.5.1", "4.0.5", "4.3.0"])
def test_a_memory_limit_never_reaches_executors(spark: str) -> None:
    assert "executor.memoryLimit" in _lost({"executor": {"memoryLimit": "2g"}}, spark)


@pytest.mark.parametrize(("spark", "lost"), [("3.2.4", True), ("3.3.4", True), ("3.4.4", False)])
def test_executor_ports_are_lost_before_spark_3_4(spark: str, lost: bool) -> None:
    ports = {"executor": {"ports": [{"name": "jmx", "containerPort": 8090}]}}
    assert _lost(ports, spark) == (["executor.ports"] if lost else [])
    # the Prometheus JMX exporter's port travels the same way
    monitoring = {"monitoring": {"exposeExecutorMetrics": True, "prometheus": {"port": 8090}}}
    assert _lost(monitoring, spark) == (["monitoring.exposeExecutorMetrics"] if lost else [])


def test_fields_left_unset_or_empty_give_no_note() -> None:
    spec = {"executor": {"memoryLimit": "", "ports": []}, "monitoring": {}}
    assert _lost(spec, "3.2.4") == []


def test_the_release_comes_from_spark_version_else_the_image() -> None:
    assert str(spark_release_of({"sparkVersion": "3.2.4"})) == "3.2.4"
    assert str(spark_release_of({"image": "apache/spark:3.4.4"})) == "3.4.4"
    assert spark_release_of({"sparkVersion": "three"}) is None
    assert spark_release_of({}) is None


APP = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "pi", "namespace": "spark-jobs"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "image": "apache/spark:3.2.4",
        "sparkVersion": "3.2.4",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.2.4.jar",
        "driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark"},
        "executor": {
            "instances": 1,
            "memory": "512m",
            "memoryLimit": "2g",
            "ports": [{"name": "jmx", "containerPort": 8090, "protocol": "TCP"}],
        },
    },
}


def test_validate_warns_at_the_fields_line_with_the_alternative(tmp_path: Path) -> None:
    from kubespark.operator.crds import spark_application_crd

    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(spark_application_crd()) + "---\n" + yaml.safe_dump(APP))
    result = runner.invoke(cli, ["validate", "-f", str(path), "--k8s", "1.30", "-o", "json"])
    assert result.exit_code == 0, result.output  # warnings only
    findings = [f for o in json.loads(result.output)["results"] for f in o["findings"]]
    lost = {f["path"]: f for f in findings if f["rule"] == "executor-field-lost"}
    assert set(lost) == {".spec.executor.memoryLimit", ".spec.executor.ports"}
    assert lost[".spec.executor.memoryLimit"]["severity"] == "warning"
    assert "memoryOverhead" in lost[".spec.executor.memoryLimit"]["fix"]
    assert "Spark 3.4 or later" in lost[".spec.executor.ports"]["fix"]
    strict = runner.invoke(cli, ["validate", "-f", str(path), "--k8s", "1.30", "--strict"])
    assert strict.exit_code == 1


def test_check_names_the_lost_fields_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(APP))
    text = runner.invoke(cli, ["check", "-f", str(path), "--k8s", "1.29"])
    assert text.exit_code == 0, text.output
    assert "note: spec.executor.memoryLimit does not reach the executor pods on Spark 3.2.4" in (
        text.output
    )
    view = json.loads(runner.invoke(cli, ["check", "-f", str(path), "-o", "json"]).output)
    assert [item["field"] for item in view["executorFieldsLost"]] == [
        "spec.executor.memoryLimit",
        "spec.executor.ports",
    ]
