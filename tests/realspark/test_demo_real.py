"""``kubespark demo --real``: the seed case with real Spark processes, and what it needs.

The real run submits the demo's PySpark job (a driver and 2 executors, real JVMs) to an emulated
1.19 with the process kubelet, after the real spark-submit 3.5.1 failed on the same server, and
prints the job's answer. Without Java it says what to install and exits 1, starting nothing.
"""

from __future__ import annotations

import pytest
from realspark_support import need_spark
from typer.testing import CliRunner

from kubespark import sparkdist
from kubespark.cli import demo
from kubespark.cli.app import app

runner = CliRunner()


@pytest.mark.realspark
@pytest.mark.slow
def test_demo_real_runs_the_job_with_real_spark_and_prints_its_answer() -> None:
    need_spark("3.5.1")
    result = runner.invoke(app, ["demo", "--real"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "spark-submit 3.5.1: failed, exit code 1" in out
    assert "✓ submitted spark-jobs/squares (Spark 3.5.1) to Kubernetes 1.19." in out
    assert "executors: 2 running" in out
    assert "✓ squares completed" in out
    assert f"= {demo.REAL_ANSWER} (right)" in out
    assert "install-crds" not in out  # the operator step stays in the fast demo


def test_demo_real_without_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparkdist, "java_home", lambda: None)
    result = runner.invoke(app, ["demo", "--real"])
    assert result.exit_code == 1, result.output
    assert "cannot run real Spark here: Spark 3.5.1 runs on Java 17" in result.stdout
    assert "install a JDK 17" in result.stdout
    assert "kubespark submit" not in result.stdout
