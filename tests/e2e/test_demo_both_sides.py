"""README command (a), ``kubespark demo``: both sides on the same emulated 1.19.

Without a cached pyspark the spark-submit step says how to enable it and the demo still shows
kubespark's side; with pyspark 3.5.1 cached (the ``pyspark`` tier installs it) and Java present,
the real spark-submit fails on the same server kubespark then submits SparkPi to.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import pyspark_env
from kubespark import sparkdist
from kubespark.cli import demo
from kubespark.cli.app import app
from kubespark.spark import load_application

runner = CliRunner()


def test_demo_without_spark_submit_still_shows_kubespark_succeeding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo, "_cached_spark_submit", lambda version: None)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "✗ spark-submit: incompatible" in out  # step 1: the verdict
    assert "skipped: pyspark 3.5.1" in out and "kubespark demo --with-spark-submit" in out
    assert "emulated Kubernetes v1.19." in out
    assert "✓ submitted spark-jobs/spark-pi (Spark 3.5.1) to Kubernetes 1.19." in out
    assert "created the Service with POST instead of apply" in out
    assert "✓ spark-pi completed" in out
    assert "spark-submit 3.5.1: not run here" in out
    assert "kubespark submit: completed, exit code 0" in out


@pytest.mark.pyspark
@pytest.mark.skipif(pyspark_env.java_home() is None, reason="spark-submit needs Java")
def test_demo_shows_spark_submit_failing_and_kubespark_completing_on_one_server() -> None:
    pyspark_env.venv("3.5.1")  # the tier's cache, the one the demo looks in
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    step2 = out.index("the real spark-submit 3.5.1 against an emulated 1.19")
    step3 = out.index("kubespark submit spark-pi.yaml --wait")
    version, _, server = out[step2:].split("emulated Kubernetes v")[1].split()[:3]
    assert version.startswith("1.19.")
    assert (
        f"✓ submitted spark-jobs/spark-pi (Spark 3.5.1) to Kubernetes {version} at {server}"
        in out[step3:]
    )
    failure = out[step2:step3]
    assert "spark-submit 3.5.1 exited with 1" in failure
    assert "failed to create typed patch object" in failure
    assert ".spec.ipFamilies: field not declared in schema" in failure
    assert "spark-submit 3.5.1: failed, exit code 1" in out
    assert "kubespark submit: completed, exit code 0" in out


def test_the_peer_uses_only_a_completely_installed_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBESPARK_CACHE", str(tmp_path))
    exe = tmp_path / "pyspark" / "3.5.1" / "bin" / "spark-submit"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    assert sparkdist.cached_spark_submit("3.5.1") is None  # pip may still be running
    (tmp_path / "pyspark" / "3.5.1" / sparkdist.INSTALLED).touch()
    assert sparkdist.cached_spark_submit("3.5.1") == exe
    assert sparkdist.cached_spark_submit("3.4.4") is None


def test_spark_pi_command_matches_the_demo_application() -> None:
    """The spark-submit side runs the application the kubespark side submits."""
    app = load_application(demo.DEMO_APP)
    command = sparkdist.spark_pi_command(Path("spark-submit"), "http://x", "3.5.1")
    confs = dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "--conf")
    spec = app.spec
    assert command[-2:] == [spec.main_application_file, *spec.arguments]
    assert command[command.index("--class") + 1] == spec.main_class
    assert command[command.index("--name") + 1] == app.metadata.name
    assert confs == {
        "spark.kubernetes.namespace": app.metadata.namespace,
        "spark.kubernetes.container.image": spec.image,
        "spark.kubernetes.authenticate.driver.serviceAccountName": spec.driver.service_account,
        "spark.driver.cores": str(spec.driver.cores),
        "spark.driver.memory": spec.driver.memory,
        "spark.executor.instances": str(spec.executor.instances),
        "spark.executor.cores": str(spec.executor.cores),
        "spark.executor.memory": spec.executor.memory,
        "spark.kubernetes.driver.label.team": spec.driver.labels["team"],
    }
