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

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "ha": {"replicaCount": 3},
    "namespaced": {"namespaces": ["spark-a", "spark-b"]},
    "selector": {"namespaceSelector": "team=spark", "metrics": {"enabled": False}},
    "standalone": {"leaderElection": {"enabled": False}, "controller": {"uiService": False}},
}


@functools.cache
def _rendered(values: str) -> str:
    return yaml.safe_dump_all(render_module.render(VALUE_SETS[values]), sort_keys=False)


def _kinds(docs: list[dict[str, Any]]) -> list[str]:
    return [d["kind"] for d in docs]


def _validate(docs: list[dict[str, Any]], version: str, tmp_path: Path) -> Result:
    """``kubespark validate -f FILE --k8s VERSION --strict`` (the CLI, in this process)."""
    path = tmp_path / f"rendered-{version}.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return CliRunner().invoke(app, ["validate", "-f", str(path), "--k8s", version, "--strict"])


def test_chart_lints_without_errors() -> None:
    result = render_module.lint()
    assert result["errors"] == []
    assert all(m["severity"] < 2 for m in result["messages"]), result["messages"]


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
@pytest.mark.parametrize("version", VERSIONS)
def test_rendered_chart_validates(values: str, version: str, tmp_path: Path) -> None:
    docs = list(yaml.load_all(_rendered(values), Loader=yaml.CSafeLoader))
    assert "Deployment" in _kinds(docs) and _kinds(docs).count("CustomResourceDefinition") == 4
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
    crds = [d for d in render_module.render({}) if d["kind"] == "CustomResourceDefinition"]
    assert sorted(crds, key=lambda d: d["metadata"]["name"]) == sorted(
        crd_documents(), key=lambda d: d["metadata"]["name"]
    )


def _operator_args(docs: list[dict[str, Any]]) -> list[str]:
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
    defaults = _parse(_operator_args(render_module.render({})))
    assert defaults["peering"] == "kubespark-operator" and not defaults["standalone"]
    assert defaults["metrics_port"] == 8080 and defaults["metrics_host"] == "0.0.0.0"
    assert defaults["log_json"] and defaults["workers"] == 32
    namespaced = _parse(_operator_args(render_module.render(VALUE_SETS["namespaced"])))
    assert namespaced["namespace"] == ["spark-a", "spark-b"]
    selector = _parse(_operator_args(render_module.render(VALUE_SETS["selector"])))
    assert selector["namespace_selector"] == "team=spark" and selector["metrics_port"] == 0
    standalone = _parse(_operator_args(render_module.render(VALUE_SETS["standalone"])))
    assert standalone["standalone"] and not standalone["ui_service"]


def test_rbac_is_least_privilege() -> None:
    for values in VALUE_SETS.values():
        docs = render_module.render(values)
        for role in (d for d in docs if d["kind"] in ("ClusterRole", "Role")):
            for rule in role["rules"]:
                assert "*" not in rule["verbs"] and "*" not in rule["resources"], role
                assert "secrets" not in rule["resources"], role
                if rule["apiGroups"] == ["apiextensions.k8s.io"]:  # CRDs: read, never written
                    assert set(rule["verbs"]) == {"get", "list", "watch"}


def test_namespaced_mode_uses_roles_only_for_applications() -> None:
    docs = render_module.render(VALUE_SETS["namespaced"])
    cluster_role = next(d for d in docs if d["kind"] == "ClusterRole")
    resources = {r for rule in cluster_role["rules"] for r in rule["resources"]}
    assert resources == {"customresourcedefinitions", "namespaces"}
    roles = [d for d in docs if d["kind"] == "Role" and "sparkapplications" in str(d)]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["spark-a", "spark-b"]
    peerings = [d for d in docs if d["kind"] == "KopfPeering"]
    assert sorted(p["metadata"]["namespace"] for p in peerings) == ["spark-a", "spark-b"]
