"""Upgrade plans: one component per step, Kubernetes one minor at a time, states checked."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app
from kubespark.errors import InputError
from kubespark.knowledge import PathName, Verdict
from kubespark.upgrade.plan import parse_state, plan_upgrade
from kubespark.versions import Version


def _plan(start: str, target: str):  # type: ignore[no-untyped-def]
    return plan_upgrade(parse_state(start, flag="--from"), parse_state(target, flag="--to"))


def test_seed_case_upgrades_kubernetes_to_121_before_spark_35_and_says_why() -> None:
    own, ours = _plan("spark=3.4.1,k8s=1.19", "spark=3.5.1,k8s=1.29")
    assert own.path is PathName.SPARK_SUBMIT and own.possible
    kinds = [s.component for s in own.steps]
    assert kinds.count("spark") == 1 and kinds.count("kubernetes") == 10
    spark_at = kinds.index("spark")
    minors_before = [s.after.kubernetes for s in own.steps[:spark_at]]
    assert minors_before == [Version(1, 20), Version(1, 21)]
    spark_step = own.steps[spark_at]
    assert "spark35-ssa-old-k8s" in spark_step.avoids
    assert "spark35-ssa-old-k8s" in spark_step.why
    # Every state on the way is judged, and none is incompatible.
    assert all(s.verdict is Verdict.COMPATIBLE for s in own.steps)
    # With kubespark the SSA issue does not order anything: Spark may go first.
    assert ours.steps[0].component == "spark"
    assert "spark35-ssa-old-k8s" in ours.lifted


def test_each_step_changes_one_component_and_kubernetes_moves_one_minor() -> None:
    own, _ = _plan("spark=3.3.4,k8s=1.18", "spark=3.5.1,k8s=1.25")
    for step in own.steps:
        changed = [
            c
            for c in ("spark", "kubernetes", "operator")
            if getattr(step.before, c) != getattr(step.after, c)
        ]
        assert changed == [step.component]
        if step.component == "kubernetes":
            assert step.after.kubernetes.minor == step.before.kubernetes.minor + 1
    assert own.steps[-1].after == parse_state("spark=3.5.1,k8s=1.25", flag="--to")


def test_operator_plan_judges_the_operator_path() -> None:
    own, _ = _plan(
        "spark=3.1.1,k8s=1.19,operator=v1beta2-1.3.8-3.1.1",
        "spark=3.5.1,k8s=1.25,operator=v1beta2-1.6.2-3.5.0",
    )
    assert own.path is PathName.OPERATOR
    op_at = [s.component for s in own.steps].index("operator")
    # The 3.5-based operator's spark-submit applies: it may only come after Kubernetes 1.21.
    assert own.steps[op_at].before.kubernetes >= Version(1, 21)
    assert "spark35-ssa-old-k8s" in own.steps[op_at].avoids


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        ("spark=3.4.1,k8s=1.22", "spark=3.5.1,k8s=1.19", "cannot go from 1.22 down to 1.19"),
        ("spark=3.4.1,k8s=1.19", "spark=3.9.1,k8s=1.29", "not a release kubespark knows"),
        ("spark=3.4.1,k8s=1.19", "spark=3.5.1,k8s=1.99", "not a minor kubespark knows"),
        ("spark=3.4.1", "spark=3.5.1,k8s=1.29", "names no kubernetes version"),
        ("spark=3.4.1,k8s=1.19,operator=v1beta2-1.3.8-3.1.1", "spark=3.5.1,k8s=1.29", "only one"),
        ("spark:3.4.1,k8s=1.19", "spark=3.5.1,k8s=1.29", "is not COMPONENT=VERSION"),
    ],
)
def test_impossible_requests_are_refused_with_the_reason(
    start: str, target: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _plan(start, target)


def test_cli_json_and_exit_codes() -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["plan", "--from", "spark=3.4.1,k8s=1.19", "--to", "spark=3.5.1,k8s=1.29", "-o", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    steps = data["plan"]["steps"]
    assert [s["after"]["kubernetes"] for s in steps[:2]] == ["1.20", "1.21"]
    assert steps[2]["component"] == "spark" and "spark35-ssa-old-k8s" in steps[2]["avoids"]
    assert data["with_kubespark"]["lifted"] == ["spark35-ssa-old-k8s"]

    bad = runner.invoke(
        app, ["plan", "--from", "spark=3.4.1,k8s=1.22", "--to", "spark=3.5.1,k8s=1.19"]
    )
    assert bad.exit_code == 2
    assert "cannot go from 1.22 down to 1.19" in bad.output

    text = runner.invoke(
        app, ["plan", "--from", "spark=3.4.1,k8s=1.19", "--to", "spark=3.5.1,k8s=1.22"]
    )
    assert text.exit_code == 0
    assert "spark35-ssa-old-k8s" in text.output
