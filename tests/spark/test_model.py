"""The SparkApplication model: kubeflow's defaults, and one clear message per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubespark.errors import InputError
from kubespark.spark import (
    ApplicationError,
    load_application,
    load_scheduled_application,
    spark_version_of,
)

APPS = Path(__file__).resolve().parents[1] / "driver" / "conformance" / "apps"

MINIMAL = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: spark-pi
  namespace: spark-jobs
spec:
  image: apache/spark:3.5.1
  mainClass: org.apache.spark.examples.SparkPi
  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
  executor:
    instances: 2
"""


def _error(text: str) -> ApplicationError:
    with pytest.raises(ApplicationError) as info:
        load_application(text)
    return info.value


def test_kubeflow_defaults_are_applied() -> None:
    app = load_application(MINIMAL)
    spec = app.spec
    assert (spec.type, spec.mode, spec.restart_policy.type) == ("Scala", "cluster", "Never")
    assert (spec.driver.cores, spec.driver.memory) == (1, "1g")
    assert (spec.executor.cores, spec.executor.memory, spec.executor.instances) == (1, "1g", 2)
    # The version comes from the image tag when sparkVersion is missing.
    assert spec.spark_version == "3.5.1"


def test_defaults_respect_spark_conf_and_dynamic_allocation() -> None:
    text = MINIMAL.replace("  executor:\n    instances: 2\n", "").replace(
        "spec:\n",
        "spec:\n  sparkConf:\n    spark.driver.memory: 4g\n"
        "  dynamicAllocation:\n    enabled: true\n"
        "  restartPolicy:\n    type: OnFailure\n",
    )
    spec = load_application(text).spec
    assert spec.driver.memory is None  # sparkConf carries it
    assert spec.executor.instances is None  # dynamic allocation decides
    assert spec.dynamic_allocation is not None
    assert spec.dynamic_allocation.shuffle_tracking_enabled is True
    assert spec.restart_policy.on_failure_retry_interval == 5
    assert spec.restart_policy.on_submission_failure_retry_interval == 5


def test_every_conformance_app_loads() -> None:
    # The pod-patch fixtures include one kubeflow's webhook now refuses (node selectors at both
    # levels, merged by older releases): loaded as those did, without the webhook's rules.
    paths = sorted(APPS.glob("*.yaml"))
    names = [load_application(p, kubeflow_refusals=False).metadata.name for p in paths]
    assert len(names) >= 10 and len(set(names)) == len(names)


def test_unknown_field_names_path_line_and_closest_name() -> None:
    error = _error(MINIMAL.replace("    instances: 2", "    instances: 2\n    memroy: 512m"))
    assert error.where == "<text>:12 spec.executor.memroy"
    assert "unknown field 'memroy'" in error.message
    assert error.fix is not None and "did you mean 'memory'?" in error.fix


def test_unknown_top_level_spec_field() -> None:
    error = _error(MINIMAL.replace("  image:", "  imagePolicy: Always\n  image:"))
    assert error.where is not None and error.where.endswith("spec.imagePolicy")
    assert error.fix is not None and "'imagePullPolicy'" in error.fix


def test_wrong_type_names_the_field() -> None:
    error = _error(MINIMAL.replace("instances: 2", "instances: two"))
    assert error.where == "<text>:11 spec.executor.instances"
    assert "expected an integer, got 'two'" in error.message


def test_unquoted_number_in_spark_conf() -> None:
    error = _error(MINIMAL + "  sparkConf:\n    spark.executor.cores: 2\n")
    assert error.where is not None
    assert error.where.endswith("spec.sparkConf['spark.executor.cores']")
    assert error.fix == 'quote the value: spark.executor.cores: "2"'


def test_negative_instances() -> None:
    error = _error(MINIMAL.replace("instances: 2", "instances: -3"))
    assert error.where == "<text>:11 spec.executor.instances"
    assert "-3 is out of range" in error.message
    assert error.fix is not None and "1 or more" in error.fix


def test_missing_main_application_file() -> None:
    error = _error(
        MINIMAL.replace(
            "  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar\n", ""
        )
    )
    assert error.where == "spec.mainApplicationFile"
    assert error.fix is not None and "local://" in error.fix


def test_no_spark_version_and_image_tag_revealing_none() -> None:
    error = _error(MINIMAL.replace("apache/spark:3.5.1", "registry.local/spark:latest"))
    assert error.where == "spec.sparkVersion"
    assert "registry.local/spark:latest" in error.message
    assert error.fix is not None and "sparkVersion" in error.fix


def test_bad_spark_version_string() -> None:
    error = _error(MINIMAL.replace("spec:\n", 'spec:\n  sparkVersion: "three"\n'))
    assert error.where == "spec.sparkVersion"


def test_every_problem_is_reported_in_line_order() -> None:
    error = _error(
        MINIMAL.replace("instances: 2", "instances: -1\n    cores: x").replace(
            "mainClass", "mainClas"
        )
    )
    wheres = [p.where for p in error.problems]
    assert [w.split()[1] for w in wheres] == [
        "spec.mainClas",
        "spec.executor.instances",
        "spec.executor.cores",
    ]
    assert error.render().count("fix:") == 3


def test_wrong_kind_and_api_version() -> None:
    error = _error(MINIMAL.replace("v1beta2", "v1beta1"))
    assert error.where == "<text>:1 apiVersion"


def test_reads_files_and_reports_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(MINIMAL.replace("instances: 2", "instances: 0"))
    with pytest.raises(ApplicationError) as info:
        load_application(path)
    assert info.value.where == f"{path}:11 spec.executor.instances"
    with pytest.raises(InputError) as missing:
        load_application(tmp_path / "absent.yaml")
    assert missing.value.where == str(tmp_path / "absent.yaml")


def test_multi_document_file_picks_the_application(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n" + MINIMAL
    assert load_application(text).metadata.name == "spark-pi"


def test_invalid_yaml() -> None:
    error = _error("spec: [unclosed")
    assert error.where is not None and error.where.startswith("<text>:")


def test_spark_version_prefers_the_field() -> None:
    spec = load_application(MINIMAL.replace("spec:\n", "spec:\n  sparkVersion: 3.4.1\n")).spec
    assert str(spark_version_of(spec)) == "3.4.1"


def test_scheduled_application_defaults_and_template_checks() -> None:
    body = (
        MINIMAL.split("spec:\n", 1)[1]
        .replace("\n  ", "\n      ")
        .replace("  image", "      image", 1)
    )
    text = (
        "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: ScheduledSparkApplication\n"
        "metadata:\n  name: nightly\nspec:\n  schedule: '@every 1h'\n  template:\n" + body
    )
    scheduled = load_scheduled_application(text)
    assert scheduled.spec.concurrency_policy == "Allow"
    assert (
        scheduled.spec.successful_run_history_limit,
        scheduled.spec.failed_run_history_limit,
    ) == (1, 1)
    assert scheduled.spec.time_zone == "Local"
    assert scheduled.spec.template.executor.cores == 1
    with pytest.raises(ApplicationError) as info:
        load_scheduled_application(
            text.replace(
                "      mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar\n",
                "",
            )
        )
    assert info.value.where == "spec.template.mainApplicationFile"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("mode: x", "  mode: x\n"),
            (
                "<text>:7 spec.mode",
                "'x' is not allowed: input should be 'cluster', 'client' or 'in-cluster-client'",
                "use one of 'cluster', 'client' or 'in-cluster-client'",
            ),
        ),
        (
            ("pythonVersion: 3", "  pythonVersion: 3\n"),
            (
                "<text>:7 spec.pythonVersion",
                "3 is not allowed: input should be '2' or '3'",
                "use one of '2' or '3'",
            ),
        ),
        (
            ("hostNetwork", "  driver:\n    hostNetwork: 'yes'\n"),
            (
                "<text>:8 spec.driver.hostNetwork",
                "expected true or false, got 'yes' (string)",
                "write true or false at spec.driver.hostNetwork",
            ),
        ),
        (
            ("driver", "  driver: big\n"),
            (
                "<text>:7 spec.driver",
                "expected a mapping (an object), got 'big' (string)",
                "write a mapping (an object) at spec.driver",
            ),
        ),
        (
            ("arguments", "  arguments: 1000\n"),
            (
                "<text>:7 spec.arguments",
                "expected a list, got 1000 (integer)",
                "write a list at spec.arguments",
            ),
        ),
        (
            ("cores", "  driver:\n    cores: true\n"),
            (
                "<text>:8 spec.driver.cores",
                "expected an integer, got True (boolean)",
                "write a whole number without quotes, e.g. 2",
            ),
        ),
        (
            ("port", "  sparkUIOptions:\n    servicePort: 70000\n"),
            (
                "<text>:8 spec.sparkUIOptions.servicePort",
                "70000 is out of range: input should be less than or equal to 65535",
                "correct spec.sparkUIOptions.servicePort",
            ),
        ),
        (
            ("key", "  nodeSelector:\n    1: a\n"),
            (
                "<text>:7 spec.nodeSelector[1]",
                "expected a string, got 1 (integer)",
                'quote the value: 1: "1"',
            ),
        ),
        (
            ("podName", "  driver:\n    podName: Pi_Driver\n"),
            (
                "<text>:8 spec.driver.podName",
                "String should match pattern "
                r"'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'"
                " (got 'Pi_Driver')",
                "use a lowercase RFC 1123 name: letters, digits, '-' and '.', e.g. my-app",
            ),
        ),
        (
            ("port fields", "  driver:\n    ports:\n    - {name: m}\n"),
            ("<text>:9 spec.driver.ports[0].protocol", "required field missing", "add protocol"),
        ),
    ],
    ids=lambda value: value[0] if isinstance(value[0], str) else "",
)
def test_each_kind_of_problem_has_its_message_and_fix(
    change: tuple[str, str], problem: tuple[str, str, str]
) -> None:
    """The texts users read, one per kind of problem (unchanged from the pydantic model's)."""
    text = MINIMAL.replace("spec:\n", "spec:\n" + change[1], 1)
    assert tuple(_error(text).problems[0]) == problem


def test_only_the_namespace_a_document_writes_counts_as_given() -> None:
    from kubespark.records import fields_set

    given = load_application(MINIMAL).metadata
    assert "namespace" in fields_set(given)
    unset = load_application(MINIMAL.replace("  namespace: spark-jobs\n", "")).metadata
    assert unset.namespace == "default" and "namespace" not in fields_set(unset)


def test_metadata_keeps_what_it_does_not_read() -> None:
    app = load_application(MINIMAL.replace("metadata:\n", "metadata:\n  generateName: pi-\n"))
    assert app.metadata.extra == {"generateName": "pi-"}
