"""SparkConnect offline: kubeflow's sparkconnect_validator_test.go tables re-expressed, the
messages with the offending value, ``kubespark validate``, and the server pod's command as
kubeflow's options.go builds it (options_test.go).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.driver.sparkconnect import connect_objects
from kubespark.spark import ApplicationError, load_spark_connect

BASE: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1alpha1",
    "kind": "SparkConnect",
    "metadata": {"name": "test-sc", "namespace": "default"},
    "spec": {
        "sparkVersion": "4.0.1",
        "image": "apache/spark:4.0.1",
        "server": {},
        "executor": {"instances": 2},
    },
}


def _doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = doc
        *parents, last = path.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return doc


def _problems(doc: dict[str, Any]) -> list[str]:
    try:
        load_spark_connect(yaml.safe_dump(doc))
    except ApplicationError as err:
        return [f"{p.where.split(' ')[-1]}: {p.message}" for p in err.problems]
    return []


NAMES = [
    ("test-sc", True),
    ("test-sc-123", True),
    ("a", True),
    ("my-sc-1", True),
    ("a" * 56, True),
    ("a-b-c-d-e", True),
    ("123test-sc", False),
    ("Test-SC", False),
    ("test-SC", False),
    ("-test-sc", False),
    ("test-sc-", False),
    ("", False),
    ("a" * 57, False),
    ("a" * 63, False),
    ("a" * 64, False),
    ("test@sc", False),
    ("test_sc", False),
    ("test sc", False),
]


@pytest.mark.parametrize(("name", "valid"), NAMES)
def test_names_as_kubeflows_validator_judges_them(name: str, valid: bool) -> None:
    problems = _problems(_doc(metadata__name=name))
    assert (problems == []) is valid, problems
    assert all(p.startswith("metadata.name") for p in problems)


def test_a_name_too_long_for_the_service_quotes_both_names() -> None:
    [problem] = _problems(_doc(metadata__name="a" * 57))
    assert f'invalid SparkConnect name "{"a" * 57}": must be at most 56 characters' in problem
    assert f'derived Service name "{"a" * 57}-server"' in problem


MEMORY = [
    ("1073741824", True),
    ("1024k", True),
    ("1024K", True),
    ("1024kb", True),
    ("512m", True),
    ("512mb", True),
    ("1g", True),
    ("1gb", True),
    ("1t", True),
    ("1tb", True),
    ("1p", True),
    ("1pb", True),
    ("", True),
    ("1x", False),
    ("invalid", False),
    ("1g2m", False),
    ("-1g", False),
    ("-1024", False),
    ("1.5g", False),
]


@pytest.mark.parametrize(("memory", "valid"), MEMORY)
def test_memory_strings_as_kubeflow_judges_them(memory: str, valid: bool) -> None:
    for role in ("server", "executor"):
        problems = _problems(_doc(**{f"spec__{role}": {"memory": memory}}))
        assert (problems == []) is valid, problems
        if not valid:
            assert problems == [
                f"spec.{role}: invalid {role}.memory: invalid memory format "
                f'"{memory}": must be a non-negative integer with optional suffix '
                "(e.g., 1g, 512m, 1024k)"
            ]


def test_refusals_carry_the_values_kubeflow_puts_in_its_messages() -> None:
    allocation = {"enabled": True, "minExecutors": 3, "maxExecutors": 1, "initialExecutors": 5}
    problems = _problems(_doc(spec__dynamicAllocation=allocation))
    assert problems == [
        "spec.dynamicAllocation: dynamicAllocation.minExecutors (3) cannot be greater than "
        "dynamicAllocation.maxExecutors (1)",
        "spec.dynamicAllocation: dynamicAllocation.initialExecutors (5) cannot be greater than "
        "dynamicAllocation.maxExecutors (1)",
    ]
    old = _doc(spec__sparkVersion="2.4.8", spec__server={"template": {"metadata": {}}})
    assert _problems(old) == [
        "spec: pod template feature requires Spark version 3.0.0 or higher, got 2.4.8"
    ]
    namespaced = _doc(spec__sparkConf={"spark.kubernetes.namespace": "other"})
    assert _problems(namespaced) == [
        'spec.sparkConf: sparkConf key "spark.kubernetes.namespace" is not allowed: must equal '
        'the application namespace "default", got "other"'
    ]
    no_image = _doc(spec__image=None)
    del no_image["spec"]["image"]
    assert _problems(no_image) == [
        "spec: image must be specified in spec.image or in the selected server and executor "
        "template containers"
    ]
    missing = copy.deepcopy(BASE)
    del missing["spec"]["executor"]
    assert [p.split(":")[0] for p in _problems(missing)] == ["spec.executor"]


def test_validate_refuses_a_spark_connect_with_the_field_and_value(tmp_path: Path) -> None:
    path = tmp_path / "sc.yaml"
    path.write_text(yaml.safe_dump(_doc(spec__executor={"memory": "2x"})))
    result = CliRunner().invoke(cli, ["validate", "-f", str(path), "--k8s", "1.30"])
    assert result.exit_code == 1, result.output
    assert 'spec.executor: invalid executor.memory: invalid memory format "2x"' in result.output


def test_the_server_command_as_kubeflows_options_build_it() -> None:
    doc = _doc(
        metadata__labels={"team": "data"},
        spec__sparkConf={"spark.sql.shuffle.partitions": "8", "k": "it's"},
        spec__hadoopConf={"fs.s3a.endpoint": "http://minio", "spark.hadoop.x": "y"},
        spec__server={"cores": 2, "memory": "2g"},
        spec__executor={"instances": 3, "cores": 1, "memory": "1g"},
        spec__dynamicAllocation={"enabled": True, "minExecutors": 1, "maxExecutors": 4},
    )
    objects = connect_objects(load_spark_connect(yaml.safe_dump(doc)))
    command = objects.server_pod["spec"]["containers"][0]["args"][0]
    for expected in (
        "--conf spark.kubernetes.namespace=default",
        "--conf spark.kubernetes.container.image=apache/spark:4.0.1",
        "--conf 'spark.sql.shuffle.partitions=8'",
        "--conf 'k=it'\"'\"'s'",  # shellQuoteSparkConfig
        "--conf 'spark.hadoop.fs.s3a.endpoint=http://minio'",
        "--conf 'spark.hadoop.x=y'",
        "--conf spark.kubernetes.driver.label.team=data",
        "--conf spark.kubernetes.executor.label.team=data",
        "--conf spark.driver.cores=2 --conf spark.driver.memory=2g",
        "--conf spark.kubernetes.driver.pod.name=test-sc-server",
        "--conf spark.executor.instances=3",
        "--conf spark.kubernetes.executor.podNamePrefix=test-sc",
        "--conf spark.dynamicAllocation.enabled=true",
        "--conf spark.dynamicAllocation.shuffleTracking.enabled=true",
    ):
        assert expected in command, expected
    assert "podTemplateFile" not in command  # no executor template
    assert objects.config_map["data"]["executor-pod-template.yaml"].strip() == "null"
    assert objects.service["metadata"]["name"] == "test-sc-server"
    custom = _doc(spec__server={"service": {"metadata": {"name": "sc-grpc"}}})
    built = connect_objects(load_spark_connect(yaml.safe_dump(custom)))
    assert built.service["metadata"]["name"] == "sc-grpc"
    assert built.service["spec"]["selector"]["spark-role"] == "connect-server"
