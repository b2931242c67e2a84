"""Prometheus monitoring (``spec.monitoring``) as the kubeflow spark-operator implements it.

Owns three things the operator's controller and webhook do for an application with
``spec.monitoring.prometheus`` (``monitoring_config.go``, ``sparkpod_defaulter.go``), read from
``data/monitoring.yaml`` with their sources:

- :func:`with_monitoring`: the spec changes made before spark-submit runs: ``spark.metrics.conf``
  and ``spark.metrics.namespace``, and for each role whose metrics are exposed the
  ``-javaagent`` java option and the ``prometheus.io/*`` annotations;
- :func:`prometheus_config_map`: the ``<app>-prom-conf`` ConfigMap with ``metrics.properties``
  and ``prometheus.yaml`` (each left out when a file in the image replaces it);
- :func:`metrics_volume`: what the webhook adds to a driver or executor pod (the ConfigMap's
  volume, its read-only mount at /etc/metrics/conf, the exporter's container port).

Also the checks that make a bad monitoring spec one message naming the field, before any write.
Pure: the input application is never modified; writing the ConfigMap is the submitter's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from kubespark import records
from kubespark.errors import DataError, InputError
from kubespark.spark.model import MonitoringSpec, PrometheusSpec, SparkApplication

__all__ = [
    "MetricsVolume",
    "MonitoringFacts",
    "check_monitoring",
    "metrics_volume",
    "monitoring_facts",
    "prometheus_config_map",
    "prometheus_config_map_name",
    "with_monitoring",
]

Obj = dict[str, Any]
Role = Literal["driver", "executor"]
_WHERE = "spec.monitoring.prometheus"


@dataclass(frozen=True)
class MonitoringFacts:
    """The kubeflow operator's monitoring constants and default file contents."""

    config_map_name_suffix: str
    config_map_labels: dict[str, str]
    mount_path: str
    volume_name_suffix: str
    metrics_properties_key: str
    prometheus_config_key: str
    default_port: int
    default_port_name: str
    port_protocol: str
    annotations: dict[str, str]
    port_annotation: str
    metrics_namespace_conf: str
    metrics_conf_conf: str
    default_metrics_properties: str
    default_prometheus_configuration: str


_INTS = frozenset({"default_port"})
_MAPS = frozenset({"config_map_labels", "annotations"})


@cache
def monitoring_facts() -> MonitoringFacts:
    """``data/monitoring.yaml``, checked: every fact present, of the right type."""
    text = resources.files("kubespark.driver").joinpath("data/monitoring.yaml").read_text()
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise DataError("monitoring.yaml must be a mapping")
    fields = MonitoringFacts.__dataclass_fields__
    missing = sorted(set(fields) - set(raw))
    if missing:
        raise DataError(f"monitoring.yaml lacks {missing}")
    values = {name: raw[name] for name in fields}
    for name, value in values.items():
        expected = int if name in _INTS else dict if name in _MAPS else str
        if not isinstance(value, expected):
            raise DataError(f"monitoring.yaml: {name} must be a {expected.__name__}")
    return MonitoringFacts(**values)


def _prometheus(app: SparkApplication) -> tuple[MonitoringSpec, PrometheusSpec] | None:
    """``util.PrometheusMonitoringEnabled``: nothing is done for monitoring without it."""
    monitoring = app.spec.monitoring
    if monitoring is None or monitoring.prometheus is None:
        return None
    return monitoring, monitoring.prometheus


def _properties_file(monitoring: MonitoringSpec) -> str:
    """``HasMetricsPropertiesFile``: an empty string counts as not set."""
    return monitoring.metrics_properties_file or ""


def _config_file(prometheus: PrometheusSpec) -> str:
    """``HasPrometheusConfigFile``: an empty string counts as not set."""
    return prometheus.config_file or ""


def prometheus_config_map_name(app: SparkApplication) -> str:
    """``util.GetPrometheusConfigMapName``: ``<app>-prom-conf``."""
    return f"{app.metadata.name}-{monitoring_facts().config_map_name_suffix}"


# IANA_SVC_NAME, as the API server validates a container port's name (RFC 6335 section 5.1).
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def check_monitoring(app: SparkApplication) -> None:
    """Refuse what would give a driver that cannot start, naming the field and the fix.

    The kubeflow CRD requires ``jmxExporterJar`` (the model does too) and bounds ``port`` to
    1024-49151 (the model does too); an empty jar path would make the JVM fail at start, and a
    port name the API server refuses would fail the driver pod's creation.
    """
    found = _prometheus(app)
    if found is None:
        return
    _, prometheus = found
    if not prometheus.jmx_exporter_jar.strip():
        raise InputError(
            "the Prometheus JMX exporter jar path is empty",
            where=f"{_WHERE}.jmxExporterJar",
            fix="give the path of jmx_prometheus_javaagent-<version>.jar in the image, e.g. "
            "/opt/spark/jars/jmx_prometheus_javaagent-1.1.0.jar",
        )
    name = prometheus.port_name
    if name is not None and not _valid_port_name(name):
        raise InputError(
            f"{name!r} is not a valid container port name",
            where=f"{_WHERE}.portName",
            fix="use at most 15 lowercase letters, digits and '-', with at least one letter, "
            "no '-' at either end and no '--' (or leave it out for jmx-exporter)",
        )


def _valid_port_name(name: str) -> bool:
    return (
        len(name) <= 15
        and bool(_PORT_NAME.match(name))
        and "--" not in name
        and any(c.isalpha() for c in name)
    )


def _java_option(prometheus: PrometheusSpec) -> str:
    facts = monitoring_facts()
    port = prometheus.port or facts.default_port
    config = _config_file(prometheus) or f"{facts.mount_path}/{facts.prometheus_config_key}"
    return f"-javaagent:{prometheus.jmx_exporter_jar}={port}:{config}"


def with_monitoring(app: SparkApplication) -> SparkApplication:
    """``configPrometheusMonitoring``'s changes to the spec, on a copy (``app`` is unchanged).

    The operator makes them in memory before building the spark-submit command; the webhook then
    reads the stored application, so only the command and the pod templates see them.
    """
    found = _prometheus(app)
    if found is None:
        return app
    check_monitoring(app)
    monitoring, prometheus = found
    facts = monitoring_facts()
    spark_conf = dict(app.spec.spark_conf)
    spark_conf[facts.metrics_namespace_conf] = f"{app.metadata.namespace}.{app.metadata.name}"
    spark_conf[facts.metrics_conf_conf] = _properties_file(monitoring) or (
        f"{facts.mount_path}/{facts.metrics_properties_key}"
    )
    update: dict[str, Any] = {"spark_conf": spark_conf}
    option = _java_option(prometheus)
    for role, exposed in (
        ("driver", monitoring.expose_driver_metrics),
        ("executor", monitoring.expose_executor_metrics),
    ):
        if exposed:
            update[role] = _exposed(getattr(app.spec, role), option, prometheus, facts)
    return records.replace(app, spec=records.replace(app.spec, **update))


def _exposed(pod_spec: Any, option: str, prometheus: PrometheusSpec, facts: MonitoringFacts) -> Any:
    port = prometheus.port or facts.default_port
    annotations = {
        **pod_spec.annotations,
        **facts.annotations,
        facts.port_annotation: str(port),
    }
    options = option if pod_spec.java_options is None else f"{pod_spec.java_options} {option}"
    return records.replace(pod_spec, annotations=annotations, java_options=options)


def prometheus_config_map(app: SparkApplication, owner: Obj | None) -> Obj | None:
    """``buildPrometheusConfigMap``: None when monitoring is off or both files come from the image.

    ``owner`` is the reference to the SparkApplication (None without one: the submitter then
    makes the driver pod its owner, as for the web UI Service).
    """
    found = _prometheus(app)
    if found is None:
        return None
    monitoring, prometheus = found
    if _properties_file(monitoring) and _config_file(prometheus):
        return None
    facts = monitoring_facts()
    data: dict[str, str] = {}
    if not _properties_file(monitoring):
        data[facts.metrics_properties_key] = (
            facts.default_metrics_properties
            if monitoring.metrics_properties is None
            else monitoring.metrics_properties
        )
    if not _config_file(prometheus):
        data[facts.prometheus_config_key] = (
            facts.default_prometheus_configuration
            if prometheus.configuration is None
            else prometheus.configuration
        )
    meta: Obj = {
        "name": prometheus_config_map_name(app),
        "namespace": app.metadata.namespace,
        "labels": dict(facts.config_map_labels),
    }
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


@dataclass(frozen=True)
class MetricsVolume:
    """What ``addPrometheusConfig`` adds to one Spark pod."""

    volume: Obj
    mount: Obj
    port: Obj


def metrics_volume(app: SparkApplication, role: Role) -> MetricsVolume | None:
    """The webhook's volume, mount and port for ``role``; None where it adds nothing."""
    found = _prometheus(app)
    if found is None:
        return None
    monitoring, prometheus = found
    if _properties_file(monitoring) and _config_file(prometheus):
        return None  # no ConfigMap is created, so nothing is mounted
    exposed = (
        monitoring.expose_driver_metrics if role == "driver" else monitoring.expose_executor_metrics
    )
    if not exposed:
        return None
    facts = monitoring_facts()
    name = prometheus_config_map_name(app)
    volume_name = name + facts.volume_name_suffix
    return MetricsVolume(
        volume={"name": volume_name, "configMap": {"name": name}},
        mount={"name": volume_name, "readOnly": True, "mountPath": facts.mount_path},
        port={
            "name": prometheus.port_name or facts.default_port_name,
            "containerPort": prometheus.port or facts.default_port,
            "protocol": facts.port_protocol,
        },
    )
