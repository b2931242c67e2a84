"""spec.monitoring as the kubeflow operator implements it (monitoring_config.go, the webhook).

Each test states one of kubeflow's rules (v2.5.2, recorded in driver/data/monitoring.yaml) and
checks the objects the builder makes: the ``<app>-prom-conf`` ConfigMap, the spark-submit confs
(metrics conf and namespace, the JMX agent's java options, prometheus annotations) and the
webhook's volume, mount and port on the driver pod and in the executor template.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubespark.driver import build_driver_resources
from kubespark.driver.monitoring import monitoring_facts
from kubespark.errors import InputError
from kubespark.records import encode
from kubespark.spark import SparkApplication, load_application

UID = "11111111-2222-4333-8444-555555555555"
JAR = "/opt/spark/jars/jmx_prometheus_javaagent-1.1.0.jar"

APP = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: pi
  namespace: jobs
{uid}
spec:
  type: Scala
  sparkVersion: "3.5.1"
  image: apache/spark:3.5.1
  mainClass: org.apache.spark.examples.SparkPi
  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
  driver:
    memory: 512m
{driver}
  executor:
    instances: 1
{executor}
{monitoring}
"""


def app(
    monitoring: str = "",
    *,
    driver: str = "",
    executor: str = "",
    uid: bool = True,
) -> SparkApplication:
    text = APP.format(
        uid=f"  uid: {UID}" if uid else "",
        driver=driver,
        executor=executor,
        monitoring=monitoring,
    )
    return load_application(text)


def monitoring(
    *, driver: bool = True, executor: bool = True, extra: str = "", prom: str = ""
) -> str:
    return (
        "  monitoring:\n"
        f"    exposeDriverMetrics: {str(driver).lower()}\n"
        f"    exposeExecutorMetrics: {str(executor).lower()}\n"
        f"{extra}"
        "    prometheus:\n"
        f"      jmxExporterJar: {JAR}\n"
        f"{prom}"
    )


class Built:
    """The parts of a build the monitoring rules touch."""

    def __init__(self, application: SparkApplication) -> None:
        self.resources = build_driver_resources(application, submission_id="s")
        self.confs = self.resources.command.confs()
        self.pod = self.resources.pod
        self.driver = next(
            c for c in self.pod["spec"]["containers"] if c["name"] == "spark-kubernetes-driver"
        )
        executor_file = next(v for k, v in self.resources.command.files.items() if "executor" in k)
        self.template = yaml.safe_load(executor_file)
        self.executor = self.template["spec"]["containers"][0]

    @property
    def config_map(self) -> dict[str, Any] | None:
        return next(
            (o for o in self.resources.operator_resources if o["kind"] == "ConfigMap"), None
        )

    def annotations(self, role: str) -> dict[str, str]:
        prefix = f"spark.kubernetes.{role}.annotation."
        return {k[len(prefix) :]: v for k, v in self.confs.items() if k.startswith(prefix)}


def volume_names(spec: dict[str, Any]) -> list[str]:
    return [v["name"] for v in spec.get("volumes") or []]


def test_defaults_create_the_config_map_and_expose_both_roles() -> None:
    built = Built(app(monitoring(), driver="    javaOptions: -Dx=1"))
    facts = monitoring_facts()
    cm = built.config_map
    assert cm is not None
    assert cm["metadata"]["name"] == "pi-prom-conf"
    assert cm["metadata"]["namespace"] == "jobs"
    assert cm["metadata"]["labels"] == {"sparkoperator.k8s.io/created-by-spark-operator": "true"}
    assert cm["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": "SparkApplication",
            "name": "pi",
            "uid": UID,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert set(cm["data"]) == {"metrics.properties", "prometheus.yaml"}
    # kubeflow's defaults, byte for byte: a Go raw string starting with a newline
    assert cm["data"]["metrics.properties"] == facts.default_metrics_properties
    assert cm["data"]["metrics.properties"].startswith(
        "\n*.sink.jmx.class=org.apache.spark.metrics.sink.JmxSink\n"
    )
    exporter = yaml.safe_load(cm["data"]["prometheus.yaml"])
    assert exporter["lowercaseOutputName"] is True
    assert exporter["rules"][0]["name"] == "spark_driver_$3_$4"
    assert len(exporter["rules"]) == 13
    agent = f"-javaagent:{JAR}=8090:/etc/metrics/conf/prometheus.yaml"
    assert built.confs["spark.metrics.conf"] == "/etc/metrics/conf/metrics.properties"
    assert built.confs["spark.metrics.namespace"] == "jobs.pi"
    assert built.confs["spark.driver.extraJavaOptions"] == f"-Dx=1 {agent}"  # appended
    assert built.confs["spark.executor.extraJavaOptions"] == agent
    for role in ("driver", "executor"):
        assert built.annotations(role) == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "8090",
            "prometheus.io/path": "/metrics",
        }
    volume = {"name": "pi-prom-conf-vol", "configMap": {"name": "pi-prom-conf"}}
    mount = {"name": "pi-prom-conf-vol", "readOnly": True, "mountPath": "/etc/metrics/conf"}
    port = {"name": "jmx-exporter", "containerPort": 8090, "protocol": "TCP"}
    for spec, container in (
        (built.pod["spec"], built.driver),
        (built.template["spec"], built.executor),
    ):
        assert volume in spec["volumes"]
        assert mount in container["volumeMounts"]
        assert port in container["ports"]
    # the annotations reach the pod through spark-submit's driver annotations
    assert built.pod["metadata"]["annotations"]["prometheus.io/port"] == "8090"
    assert built.resources.properties["spark.metrics.namespace"] == "jobs.pi"


def test_port_and_port_name_reach_agent_annotations_and_container() -> None:
    built = Built(app(monitoring(prom="      port: 9100\n      portName: metrics\n")))
    assert built.confs["spark.driver.extraJavaOptions"] == (
        f"-javaagent:{JAR}=9100:/etc/metrics/conf/prometheus.yaml"
    )
    assert built.annotations("driver")["prometheus.io/port"] == "9100"
    assert {"name": "metrics", "containerPort": 9100, "protocol": "TCP"} in built.driver["ports"]


def test_custom_contents_are_written_verbatim() -> None:
    sink = "*.sink.console.class=org.apache.spark.metrics.sink.ConsoleSink"
    extra = f"    metricsProperties: |\n      {sink}\n"
    prom = "      configuration: |\n        rules:\n        - pattern: '.*'\n"
    cm = Built(app(monitoring(extra=extra, prom=prom))).config_map
    assert cm is not None
    assert cm["data"] == {
        "metrics.properties": f"{sink}\n",
        "prometheus.yaml": "rules:\n- pattern: '.*'\n",
    }


def test_metrics_properties_file_replaces_the_metrics_properties_key() -> None:
    built = Built(
        app(monitoring(extra="    metricsPropertiesFile: /opt/spark/conf/m.properties\n"))
    )
    cm = built.config_map
    assert cm is not None
    assert set(cm["data"]) == {"prometheus.yaml"}
    assert built.confs["spark.metrics.conf"] == "/opt/spark/conf/m.properties"
    assert "pi-prom-conf-vol" in volume_names(built.pod["spec"])  # prometheus.yaml is still read


def test_config_file_replaces_the_prometheus_key_and_the_agent_argument() -> None:
    built = Built(app(monitoring(prom="      configFile: /opt/jmx/config.yaml\n")))
    cm = built.config_map
    assert cm is not None
    assert set(cm["data"]) == {"metrics.properties"}
    assert built.confs["spark.driver.extraJavaOptions"] == (
        f"-javaagent:{JAR}=8090:/opt/jmx/config.yaml"
    )
    assert "pi-prom-conf-vol" in volume_names(built.pod["spec"])


def test_both_files_from_the_image_mean_no_config_map_and_no_webhook_patch() -> None:
    built = Built(
        app(
            monitoring(
                extra="    metricsPropertiesFile: /opt/m.properties\n",
                prom="      configFile: /opt/jmx.yaml\n",
            )
        )
    )
    assert built.config_map is None
    assert "pi-prom-conf-vol" not in volume_names(built.pod["spec"])
    # addPrometheusConfig returns before adding the port too
    assert all(p["name"] != "jmx-exporter" for p in built.driver["ports"])
    assert built.confs["spark.metrics.conf"] == "/opt/m.properties"
    assert built.confs["spark.driver.extraJavaOptions"] == f"-javaagent:{JAR}=8090:/opt/jmx.yaml"


def test_empty_file_paths_count_as_not_set() -> None:
    built = Built(
        app(monitoring(extra="    metricsPropertiesFile: ''\n", prom="      configFile: ''\n"))
    )
    cm = built.config_map
    assert cm is not None
    assert set(cm["data"]) == {"metrics.properties", "prometheus.yaml"}


def test_only_executor_metrics_exposed() -> None:
    built = Built(app(monitoring(driver=False, executor=True)))
    assert built.config_map is not None  # created whenever prometheus is set
    assert built.confs["spark.metrics.conf"] == "/etc/metrics/conf/metrics.properties"
    assert "spark.driver.extraJavaOptions" not in built.confs
    assert built.annotations("driver") == {}
    assert "pi-prom-conf-vol" not in volume_names(built.pod["spec"])
    assert "-javaagent:" in built.confs["spark.executor.extraJavaOptions"]
    assert "pi-prom-conf-vol" in volume_names(built.template["spec"])


def test_monitoring_without_prometheus_does_nothing() -> None:
    text = "  monitoring:\n    exposeDriverMetrics: true\n    exposeExecutorMetrics: true\n"
    built = Built(app(text + "    metricsProperties: x=y\n"))
    assert built.config_map is None
    assert "spark.metrics.conf" not in built.confs
    assert "spark.driver.extraJavaOptions" not in built.confs
    assert "pi-prom-conf-vol" not in volume_names(built.pod["spec"])


def test_without_an_application_uid_the_config_map_has_no_owner_yet() -> None:
    cm = Built(app(monitoring(), uid=False)).config_map
    assert cm is not None
    assert "ownerReferences" not in cm["metadata"]  # the submitter makes the driver pod its owner


def test_the_input_application_is_not_changed() -> None:
    application = app(monitoring(), driver="    javaOptions: -Dx=1")
    before = encode(application)
    Built(application)
    assert encode(application) == before


def test_missing_jmx_exporter_jar_names_the_field() -> None:
    text = "  monitoring:\n    exposeDriverMetrics: true\n    exposeExecutorMetrics: false\n"
    with pytest.raises(InputError) as err:
        app(text + "    prometheus:\n      port: 8090\n")
    assert err.value.where.endswith(" spec.monitoring.prometheus.jmxExporterJar")


@pytest.mark.parametrize(
    ("prom", "field"),
    [
        ("      jmxExporterJar: ''\n", "jmxExporterJar"),
        (f"      jmxExporterJar: {JAR}\n      portName: Metrics_Port\n", "portName"),
        (f"      jmxExporterJar: {JAR}\n      portName: a-very-long-port-name\n", "portName"),
    ],
)
def test_bad_monitoring_fields_are_refused_naming_the_field(prom: str, field: str) -> None:
    text = "  monitoring:\n    exposeDriverMetrics: true\n    exposeExecutorMetrics: false\n"
    with pytest.raises(InputError) as err:
        build_driver_resources(app(text + "    prometheus:\n" + prom), submission_id="s")
    assert err.value.where == f"spec.monitoring.prometheus.{field}"
    assert err.value.fix


def test_port_outside_kubeflow_range_is_refused() -> None:
    with pytest.raises(InputError) as err:
        app(monitoring(prom="      port: 80\n"))
    assert err.value.where.endswith(" spec.monitoring.prometheus.port")
