"""The Helm chart in deploy/: rendered by Helm's own engine, valid on 1.16, 1.19, 1.21 and newest.

Debian has no ``helm`` package, so the chart is rendered with helm-python-sdk: Helm's official
Go SDK compiled into the wheel, the same engine as ``helm template --include-crds``. Every
rendered object must pass ``kubespark validate`` (strict) for each version, the shipped plain
manifests must be that rendering, and the operator's arguments in the Deployment must be ones
``kubespark operator`` accepts.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from operator_harness import VERSIONS
from typer.testing import CliRunner

from kubespark.cli.app import app
from kubespark.operator.crds import crd_documents

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("deploy_render", ROOT / "deploy" / "render.py")
assert _spec is not None and _spec.loader is not None
render_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_module)

KUBEFLOW_VALUES = Path(__file__).parent / "kubeflow_values"
VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "ha": {"controller": {"replicas": 3, "podDisruptionBudget": {"enable": True}}},
    "namespaced": {"spark": {"jobNamespaces": ["spark-a", "spark-b"]}},
    "selector": {
        "spark": {"jobNamespaceSelector": "team=spark"},
        "prometheus": {"metrics": {"enable": False}},
    },
    "standalone": {
        "controller": {"leaderElection": {"enable": False}, "uiService": {"enable": False}}
    },
    "monitored": {
        "prometheus": {"podMonitor": {"create": True}, "serviceMonitor": {"create": True}}
    },
    **{
        f"kubeflow-{p.stem}": yaml.safe_load(p.read_text())
        for p in sorted(KUBEFLOW_VALUES.glob("*.yaml"))
    },
}


@functools.cache
def _rendered(values: str) -> tuple[dict[str, Any], ...]:
    """The chart rendered with a value set, once per process (Helm's engine takes a while);
    tests read these documents, never change them."""
    return tuple(render_module.render(VALUE_SETS[values]))


def _dump(docs: list[dict[str, Any]]) -> str:
    # libyaml's emitter: the pure-Python one took most of each validation's time.
    return yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False)


def _kinds(docs: list[dict[str, Any]]) -> list[str]:
    return [d["kind"] for d in docs]


def _validate(docs: list[dict[str, Any]], version: str, tmp_path: Path) -> Result:
    """``kubespark validate -f FILE --k8s VERSION --strict`` (the CLI, in this process)."""
    path = tmp_path / f"rendered-{version}.yaml"
    path.write_text(_dump(docs))
    return CliRunner().invoke(app, ["validate", "-f", str(path), "--k8s", version, "--strict"])


def test_chart_lints_without_errors() -> None:
    result = render_module.lint()
    assert result["errors"] == []
    assert all(m["severity"] < 2 for m in result["messages"]), result["messages"]


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
@pytest.mark.parametrize("version", VERSIONS)
def test_rendered_chart_validates(values: str, version: str, tmp_path: Path) -> None:
    docs = list(_rendered(values))
    assert "Deployment" in _kinds(docs) and _kinds(docs).count("CustomResourceDefinition") == 5
    # Prometheus Operator's kinds are not Kubernetes'; validated by their own test below.
    docs = [d for d in docs if d["apiVersion"] != "monitoring.coreos.com/v1"]
    if version in ("1.16", "1.19"):
        # The PDB's apiVersion follows the cluster Helm installs to (policy/v1 from 1.21);
        # this offline renderer has Helm's default, newer, Kubernetes version.
        assert all(
            d["apiVersion"] == "policy/v1" for d in docs if d["kind"] == "PodDisruptionBudget"
        )
        docs = [d for d in docs if d["kind"] != "PodDisruptionBudget"]
    result = _validate(docs, version, tmp_path)
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_validate_would_catch_a_broken_manifest(tmp_path: Path) -> None:
    """The check above can fail: a Deployment the old servers do not serve is rejected."""
    docs = render_module.render({})
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["apiVersion"] = "apps/v1beta1"
    result = _validate(docs, "1.16", tmp_path)
    assert result.exit_code == 1 and "apps/v1beta1 Deployment is not served" in result.output


def test_shipped_manifests_are_the_rendered_chart() -> None:
    shipped = (ROOT / "deploy" / "manifests" / "kubespark-operator.yaml").read_text()
    assert shipped == render_module.plain_manifests(), "run: .venv/bin/python deploy/render.py"


def test_chart_crds_are_the_operators() -> None:
    crds = [d for d in _rendered("defaults") if d["kind"] == "CustomResourceDefinition"]
    assert sorted(crds, key=lambda d: d["metadata"]["name"]) == sorted(
        crd_documents(), key=lambda d: d["metadata"]["name"]
    )


def _operator_args(docs: Sequence[dict[str, Any]]) -> list[str]:
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    args: list[str] = container["args"]
    return args


def _parse(args: list[str]) -> dict[str, Any]:
    import typer.main

    group = typer.main.get_command(app)
    command = group.get_command(group.make_context("kubespark", [args[0]]), args[0])  # type: ignore[attr-defined]
    assert command is not None, args[0]
    ctx = command.make_context(args[0], args[1:])
    return dict(ctx.params)


def test_deployment_args_are_accepted_by_the_cli() -> None:
    defaults = _parse(_operator_args(_rendered("defaults")))
    assert defaults["peering"] == "kubespark-operator" and not defaults["standalone"]
    assert defaults["metrics_port"] == 8080 and defaults["metrics_host"] == "0.0.0.0"
    assert defaults["log_json"] and defaults["workers"] == 32
    namespaced = _parse(_operator_args(_rendered("namespaced")))
    assert namespaced["namespace"] == ["spark-a", "spark-b"]
    selector = _parse(_operator_args(_rendered("selector")))
    assert selector["namespace_selector"] == "team=spark" and selector["metrics_port"] == 0
    standalone = _parse(_operator_args(_rendered("standalone")))
    assert standalone["standalone"] and not standalone["ui_service"]


def test_rbac_is_least_privilege() -> None:
    for values in VALUE_SETS:
        docs = _rendered(values)
        for role in (d for d in docs if d["kind"] in ("ClusterRole", "Role")):
            for rule in role["rules"]:
                assert "*" not in rule["verbs"] and "*" not in rule["resources"], role
                assert "secrets" not in rule["resources"], role
                if role["metadata"]["name"].endswith("-crds"):
                    # the pre-upgrade hook's role (test_helm_upgrade_runs_install_crds_first)
                    assert rule["resources"] == ["customresourcedefinitions"]
                    assert "delete" not in rule["verbs"]
                elif rule["apiGroups"] == ["apiextensions.k8s.io"]:  # CRDs: read, never written
                    assert set(rule["verbs"]) == {"get", "list", "watch"}


def test_namespaced_mode_uses_roles_only_for_applications() -> None:
    docs = render_module.render(VALUE_SETS["namespaced"], include_crds=False)
    docs = [d for d in docs if "helm.sh/hook" not in (d["metadata"].get("annotations") or {})]
    cluster_role = next(d for d in docs if d["kind"] == "ClusterRole")
    resources = {r for rule in cluster_role["rules"] for r in rule["resources"]}
    assert resources == {"customresourcedefinitions", "namespaces"}
    roles = [d for d in docs if d["kind"] == "Role" and "sparkapplications" in str(d)]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["spark-a", "spark-b"]
    peerings = [d for d in docs if d["kind"] == "KopfPeering"]
    assert sorted(p["metadata"]["namespace"] for p in peerings) == ["spark-a", "spark-b"]


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"replicaCount": 2}, "additional properties 'replicaCount' not allowed"),
        (
            {"controller": {"replicas": "two"}},
            "at '/controller/replicas': got string, want integer",
        ),
        ({"prometheus": {"podMonitor": {"crate": True}}}, "'crate' not allowed"),
        ({"spark": {"jobNamespaces": "team-a"}}, "at '/spark/jobNamespaces'"),
        (
            {"controller": {"batchScheduler": {"enable": "yes"}}},
            "/controller/batchScheduler/enable",
        ),
    ],
)
def test_the_schema_refuses_unknown_keys_and_wrong_types(
    values: dict[str, Any], where: str
) -> None:
    with pytest.raises(Exception, match="values don't meet the specifications") as caught:
        render_module.render(values)
    assert where in str(caught.value)


def test_combinations_kubespark_cannot_honour_fail_with_the_fix() -> None:
    both = {"spark": {"jobNamespaces": ["a"], "jobNamespaceSelector": "spark=enabled"}}
    with pytest.raises(Exception, match="cannot be combined") as caught:
        render_module.render(both)
    assert "keep only the selector" in str(caught.value)
    with pytest.raises(Exception, match=r"needs controller\.replicas of 2 or more"):
        render_module.render({"controller": {"podDisruptionBudget": {"enable": True}}})


def test_kubeflow_values_take_effect() -> None:
    """Not only accepted: kubeflow's names change what is deployed."""
    docs = render_module.render(VALUE_SETS["kubeflow-production"], include_crds=False)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["metadata"]["name"] == "spark-operator"
    assert deployment["metadata"]["labels"]["team"] == "data-platform"
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 2
    assert pod["containers"][0]["image"] == "registry.example.com/kubespark/kubespark:0.1.0"
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]
    assert {v["name"] for v in pod["volumes"]} == {"tmp", "extra-ca"}
    args = _parse(pod["containers"][0]["args"])
    assert args["namespace"] == ["team-a", "team-b"] and args["workers"] == 64
    assert args["kube_api_qps"] == 100 and args["kube_api_burst"] == 200
    assert args["ingress_url_format"] == "{{$appName}}.spark.example.com"
    assert args["metrics_prefix"] == "kubespark_" and args["log_level"] == "DEBUG"
    kinds = {(d["kind"], d["metadata"].get("namespace")) for d in docs}
    assert ("PodDisruptionBudget", "kubespark") in kinds and ("PodMonitor", "kubespark") in kinds
    accounts = {
        (d["metadata"]["name"], d["metadata"]["namespace"])
        for d in docs
        if d["kind"] == "ServiceAccount"
    }
    assert {("spark", "team-a"), ("spark", "team-b")} <= accounts
    defaults = _parse(_operator_args(_rendered("kubeflow-defaults")))
    assert defaults["namespace"] == ["default"] and defaults["workers"] == 10


def test_monitors_select_the_operator_pods_metrics_port() -> None:
    docs = render_module.render(VALUE_SETS["monitored"], include_crds=False)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"]
    pod_monitor = next(d for d in docs if d["kind"] == "PodMonitor")
    assert pod_monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pod_monitor["spec"]["podMetricsEndpoints"][0]["port"] == port
    service = next(d for d in docs if d["kind"] == "Service")
    service_monitor = next(d for d in docs if d["kind"] == "ServiceMonitor")
    assert (
        service_monitor["spec"]["selector"]["matchLabels"].items()
        <= service["metadata"]["labels"].items()
    )
    assert service_monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


def test_helm_upgrade_runs_install_crds_first() -> None:
    docs = render_module.render({}, include_crds=False)
    hooks = [d for d in docs if "helm.sh/hook" in (d["metadata"].get("annotations") or {})]
    assert {d["metadata"]["annotations"]["helm.sh/hook"] for d in hooks} == {"pre-upgrade"}
    job = next(d for d in hooks if d["kind"] == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["install-crds"]
    assert _parse(container["args"])["dry_run"] is False  # a command the image has
    role = next(d for d in hooks if d["kind"] == "ClusterRole")
    assert [r["resources"] for r in role["rules"]] == [["customresourcedefinitions"]]
    weights = {d["kind"]: int(d["metadata"]["annotations"]["helm.sh/hook-weight"]) for d in hooks}
    assert weights["ClusterRoleBinding"] < weights["Job"]  # its permissions exist first
    disabled = render_module.render({"crds": {"upgradeHook": {"enable": False}}})
    assert not [d for d in disabled if "helm.sh/hook" in (d["metadata"].get("annotations") or {})]


def test_the_kustomize_base_builds_the_same_objects() -> None:
    import shutil
    import subprocess

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "manifests")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    key = lambda d: (d["kind"], d["metadata"].get("namespace") or "", d["metadata"]["name"])  # noqa: E731
    ours = sorted(yaml.load_all(render_module.plain_manifests(), Loader=yaml.CSafeLoader), key=key)
    theirs = sorted((d for d in yaml.load_all(built, Loader=yaml.CSafeLoader) if d), key=key)
    assert theirs == ours
