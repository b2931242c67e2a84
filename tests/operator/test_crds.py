"""The shipped CRDs: derived from the spark model and the API surface, structural, installable."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from operator_harness import CLUSTER_VERSIONS, GROUP_PATH, VERSIONS, running_cluster, spark_pi
from typer.testing import CliRunner

from kubespark.apisurface import check_object, load_surface, newest_version
from kubespark.cli.app import app
from kubespark.kube.errors import Invalid
from kubespark.kube.requests import KubeRequest
from kubespark.operator.crds import (
    crd_documents,
    expected_files,
    shipped_crds,
    with_validation_rules,
)
from kubespark.operator.install import plan_crds
from kubespark.records import record_fields
from kubespark.spark.model import DriverSpec, ExecutorSpec, SparkApplicationSpec
from kubespark.versions import parse_kube_version


def _schema(kind: str) -> dict[str, Any]:
    crd = next(d for d in crd_documents() if d["spec"]["names"]["kind"] == kind)
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_shipped_files_are_generated_from_the_models() -> None:
    from importlib.resources import files

    root = files("kubespark.operator") / "data" / "crds"
    for name, text in expected_files().items():
        assert (root / name).read_text() == text, (
            f"regenerate: python -m kubespark.operator.crds ({name})"
        )
    assert shipped_crds() == crd_documents()


def test_every_model_field_is_in_the_schema() -> None:
    spec = _schema("SparkApplication")["properties"]["spec"]
    for model, props in (
        (SparkApplicationSpec, spec["properties"]),
        (DriverSpec, spec["properties"]["driver"]["properties"]),
        (ExecutorSpec, spec["properties"]["executor"]["properties"]),
    ):
        names = {f.json for f in record_fields(model)}
        assert names == set(props), model.__name__
    scheduled = _schema("ScheduledSparkApplication")["properties"]["spec"]["properties"]
    # The same fields; kubeflow's scheduled validator applies fewer webhook rules to a template.
    assert _without_rules(scheduled["template"]["properties"]) == _without_rules(spec["properties"])


def _without_rules(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_rules(v) for k, v in node.items() if k != "x-kubernetes-validations"}
    return [_without_rules(v) for v in node] if isinstance(node, list) else node


def test_kubernetes_sub_objects_are_typed_from_the_api_surface() -> None:
    spec = _schema("SparkApplication")["properties"]["spec"]["properties"]
    volume = spec["volumes"]["items"]
    assert volume["required"] == ["name"] and "configMap" in volume["properties"]
    assert "ephemeral" in volume["properties"]  # newest minor's fields: a superset, never pruned
    driver = spec["driver"]["properties"]
    assert "nodeAffinity" in driver["affinity"]["properties"]
    assert driver["sidecars"]["items"]["required"] == ["name"]
    assert driver["template"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert spec["type"]["enum"] == ["Java", "Scala", "Python", "R"]
    assert spec["executor"]["properties"]["instances"]["minimum"] == 1


def _structural_problems(node: Any, path: str = "") -> list[str]:
    problems = []
    if isinstance(node, dict) and ("properties" in node or "items" in node or "type" in node):
        typed = (
            "type" in node
            or node.get("x-kubernetes-int-or-string")
            or node.get("x-kubernetes-preserve-unknown-fields")
        )
        if not typed:
            problems.append(path)
        for key, sub in (node.get("properties") or {}).items():
            problems += _structural_problems(sub, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            problems += _structural_problems(node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            problems += _structural_problems(node["additionalProperties"], f"{path}{{}}")
    return problems


def test_schemas_are_structural_with_status_and_columns() -> None:
    for crd in crd_documents():
        version = crd["spec"]["versions"][0]
        assert _structural_problems(version["schema"]["openAPIV3Schema"]) == []
    spark = crd_documents()[0]["spec"]["versions"][0]
    assert spark["subresources"] == {"status": {}}
    assert [c["name"] for c in spark["additionalPrinterColumns"]] == [
        "Suspend",
        "Status",
        "Attempts",
        "Start",
        "Finish",
        "Age",
    ]
    status = _schema("SparkApplication")["properties"]["status"]["properties"]
    for field in (
        "applicationState",
        "sparkApplicationId",
        "submissionID",
        "lastSubmissionAttemptTime",
        "terminationTime",
        "driverInfo",
        "executorState",
        "executionAttempts",
        "submissionAttempts",
    ):
        assert field in status


@pytest.mark.parametrize("version", VERSIONS)
def test_crds_fit_every_version(version: str) -> None:
    """The shipped CRDs fit every version; with the CEL rules, the versions that know them."""
    surface = load_surface(version)
    for crd in crd_documents():
        assert check_object(surface, crd) == []
        ruled = [p.field for p in check_object(surface, with_validation_rules(crd))]
        knows_rules = parse_kube_version(version) >= parse_kube_version("1.23")
        has_rules = crd["spec"]["group"] == "sparkoperator.k8s.io"
        assert bool(ruled) == (has_rules and not knows_rules)
        assert set(ruled) <= {"x-kubernetes-validations"}


def test_install_crds_dry_run_and_yaml() -> None:
    runner = CliRunner()
    planned = runner.invoke(app, ["install-crds", "--dry-run", "--k8s", "1.16"])
    assert planned.exit_code == 0, planned.output
    assert "POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions" in planned.output
    assert planned.output.count("CustomResourceDefinition") == 5  # 3 of kubeflow, 2 of kopf
    printed = runner.invoke(app, ["install-crds", "-o", "yaml", "--no-peering"])
    assert printed.exit_code == 0 and printed.output.count("kind: CustomResourceDefinition") == 3


@pytest.mark.parametrize("version", CLUSTER_VERSIONS)
async def test_install_on_a_server_and_bad_input_is_refused(
    emulator_factory: Any, version: str
) -> None:
    """Installed (and re-installed) through the planner; the server then enforces the schema."""
    async with running_cluster(emulator_factory, version, operator=False) as cluster:
        arguments = ["install-crds", "--kubeconfig", str(cluster.kubeconfig)]
        result = await asyncio.to_thread(CliRunner().invoke, app, arguments)
        assert result.exit_code == 0, result.output
        assert result.output.count("established ") == 5
        bad = spark_pi("negative")
        bad["spec"]["executor"]["instances"] = -1
        with pytest.raises(Invalid) as caught:
            await cluster.create(bad)
        assert "spec.executor.instances" in caught.value.message
        typo = spark_pi("typo")
        typo["spec"]["driver"]["coress"] = 2
        stored = await cluster.create(typo)
        assert "coress" not in json.dumps(stored["spec"])  # pruned: the structural schema at work
        listing = await cluster.client.send(KubeRequest("GET", f"{GROUP_PATH}/sparkapplications"))
        assert [i["metadata"]["name"] for i in listing["items"]] == ["typo"]


@pytest.mark.parametrize("version", ["1.26", "1.27", str(newest_version())])
def test_install_adds_message_expressions_where_the_server_has_them(version: str) -> None:
    """kubeflow's messages with the value go in as messageExpression where ValidationRule has it."""
    surface = load_surface(version)
    docs = [w.body for w in plan_crds(surface, peering=False)]
    text = str(docs)
    has_expressions = parse_kube_version(version) >= parse_kube_version("1.27")
    assert ("messageExpression" in text) == has_expressions
    for crd in docs:
        assert check_object(surface, crd) == []
