"""The Grafana dashboard and the PrometheusRule alerts query only metrics the operator exports.

The exported names come from a live :class:`OperatorMetrics` registry (each family's type gives
its sample names: ``_bucket``/``_sum``/``_count`` for histograms, the bare name for kubeflow-style
counters), so renaming a metric without its dashboard panel or alert fails here.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubespark.operator.metrics import OperatorMetrics

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "kubespark-operator"
_spec = importlib.util.spec_from_file_location("deploy_render", ROOT / "deploy" / "render.py")
assert _spec is not None and _spec.loader is not None
render_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_module)

PROMETHEUS_OWN = {"up"}  # written by Prometheus for every scrape target
METRIC = re.compile(r"\b((?:[a-z]+_)?(?:spark|kubespark)_[a-z0-9_]+|up)\b(?!\s*\()")


def exported(prefix: str = "") -> set[str]:
    names: set[str] = set()
    for family in OperatorMetrics(prefix=prefix).registry.collect():
        if family.type == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
        elif family.type == "summary":
            names |= {family.name, f"{family.name}_sum", f"{family.name}_count"}
        else:
            names.add(family.name)
    return names


def queried(expressions: list[str]) -> set[str]:
    found = set()
    for expr in expressions:
        without_strings = re.sub(r'"[^"]*"', '""', expr)  # label values are not metrics
        found |= {m for m in METRIC.findall(without_strings) if not m.startswith("le")}
    return found


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((CHART / "files" / "grafana-dashboard.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def _rules(values: dict[str, Any]) -> list[dict[str, Any]]:
    docs = render_module.render(values, include_crds=False)
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    return [r for g in rule["spec"]["groups"] for r in g["rules"]]


def test_the_dashboard_queries_exported_metrics() -> None:
    names = queried(_dashboard_exprs())
    assert len(names) >= 10
    assert names - PROMETHEUS_OWN <= exported(), names - exported()


@pytest.mark.parametrize("prefix", ["", "kubespark_"])
def test_the_alerts_query_exported_metrics(prefix: str) -> None:
    values = {"prometheus": {"prometheusRule": {"create": True}, "metrics": {"prefix": prefix}}}
    rules = _rules(values)
    alerts = {r["alert"] for r in rules}
    assert {
        "KubesparkOperatorDown",
        "KubesparkSubmissionFailureRatio",
        "KubesparkApplicationsStuckSubmitted",
        "KubesparkApplicationsStuckPending",
    } <= alerts
    names = queried([r["expr"] for r in rules])
    assert names - PROMETHEUS_OWN <= exported(prefix), names - exported(prefix)


def test_the_check_catches_a_metric_the_operator_does_not_export() -> None:
    names = queried(["sum(rate(spark_application_submitted_total[5m]))"])
    assert names == {"spark_application_submitted_total"} and not names <= exported()


def test_the_dashboard_configmap_is_for_the_grafana_sidecar() -> None:
    docs = render_module.render({"grafana": {"dashboard": {"create": True}}}, include_crds=False)
    config_map = next(d for d in docs if d["kind"] == "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    (body,) = config_map["data"].values()
    assert json.loads(body)["uid"] == "kubespark-operator"


def test_shipped_monitoring_manifests_are_the_rendered_chart() -> None:
    shipped = (ROOT / "deploy" / "monitoring" / "kubespark-operator-monitoring.yaml").read_text()
    assert shipped == render_module.monitoring_manifests(), "run: .venv/bin/python deploy/render.py"
    kinds = [d["kind"] for d in yaml.safe_load_all(shipped) if d]
    assert kinds == ["PrometheusRule", "ConfigMap"]
