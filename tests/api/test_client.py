"""``kubespark.Client`` and ``kubespark.AsyncClient`` against an emulated server over real HTTP.

Direct submissions (a dict, YAML text, a path, a model) through the same flow as ``kubespark
submit``; the operator's SparkApplications through the real operator. The calls an Airflow task
and a Dagster op make (``docs/integrations.md``) are the ones exercised here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

import kubespark
from kubespark import Application, AsyncClient, Client, InputError, SparkApplication
from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("own_caches")
MakeApp = Callable[[str], dict[str, Any]]


def test_the_client_is_public_and_typed() -> None:
    for name in ("Client", "AsyncClient", "Application", "SubmissionError"):
        assert name in kubespark.__all__
    assert kubespark.Client is Client


def test_client_submits_waits_reads_and_deletes(
    emulator: RunningEmulator, spark_pi: MakeApp
) -> None:
    ks = Client(emulator.kubeconfig_path)
    app = ks.submit(spark_pi("spark-pi"), wait=True)
    assert isinstance(app, Application)
    assert (app.kind, app.name, app.namespace, app.state) == (
        "Submission",
        "spark-pi",
        "default",
        "COMPLETED",
    )
    assert app.succeeded and app.spark_version == "3.5.1"
    # 1.19 has no ipFamilies: the one note per cause kubespark recorded on the driver pod.
    assert any("spec.ipFamilies" in note for note in app.notes)
    assert ks.get("spark-pi") == app
    assert [a.name for a in ks.list()] == ["spark-pi"]
    assert "Pi is roughly" in ks.logs("spark-pi")
    assert len(ks.logs("spark-pi", tail=1).strip().splitlines()) == 1
    ks.delete("spark-pi")
    with pytest.raises(InputError, match="no application 'spark-pi'"):
        ks.get("spark-pi")


async def test_async_client_takes_yaml_text_a_path_and_a_model(
    emulator: RunningEmulator, tmp_path: Path, spark_pi: MakeApp
) -> None:
    path = tmp_path / "from-path.yaml"
    path.write_text(yaml.safe_dump(spark_pi("from-path")))
    model = kubespark.load_application(yaml.safe_dump(spark_pi("from-model")))
    assert isinstance(model, SparkApplication)
    async with AsyncClient(emulator.kubeconfig_path) as ks:
        text = await ks.submit(yaml.safe_dump(spark_pi("from-text")))
        by_path = await ks.submit(path)
        by_model = await ks.submit(model)
        assert {text.name, by_path.name, by_model.name} == {"from-text", "from-path", "from-model"}
        done = await ks.wait("from-text", seconds=60, poll=0.1)
        assert done.state == "COMPLETED"
        assert {a.name for a in await ks.list(all_namespaces=True)} == {
            "from-text",
            "from-path",
            "from-model",
        }


def test_bad_input_is_an_input_error_naming_the_field(
    emulator: RunningEmulator, spark_pi: MakeApp
) -> None:
    broken = spark_pi("broken")
    broken["spec"]["executor"]["instances"] = "two"
    with pytest.raises(InputError) as caught:
        Client(emulator.kubeconfig_path).submit(broken)
    assert "spec.executor.instances" in caught.value.render()


def test_executor_and_previous_logs_and_run_now(
    emulator: RunningEmulator, spark_pi: MakeApp
) -> None:
    app = spark_pi("long-pi")
    app["spec"]["driver"]["annotations"] = {"kubespark.io/emulate-run-seconds": "3600"}
    app["spec"]["executor"]["annotations"] = {"kubespark.io/emulate-log": "executor up"}
    ks = Client(emulator.kubeconfig_path)
    ks.submit(app)

    def executor_log() -> str:
        try:
            return ks.logs("long-pi", executor=2)
        except InputError:  # no executors yet
            return ""

    deadline = time.monotonic() + 20
    while executor_log() != "executor up\n":
        assert time.monotonic() < deadline, "executor 2 never logged"
        time.sleep(0.1)
    with pytest.raises(InputError, match='previous terminated container "spark-kubernetes-driver"'):
        ks.logs("long-pi", previous=True)
    with pytest.raises(InputError, match="has no executor 7"):
        ks.logs("long-pi", executor=7)
    # run_now: a ScheduledSparkApplication's run, as `kubespark run-now` starts it.
    kubeconfig = str(emulator.kubeconfig_path)
    assert runner.invoke(cli, ["install-crds", "--kubeconfig", kubeconfig]).exit_code == 0
    schedule = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "@daily", "concurrencyPolicy": "Forbid", "template": app["spec"]},
    }
    with httpx.Client(base_url=emulator.url, timeout=10) as http:
        path = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default/scheduledsparkapplications"
        assert http.post(path, json=schedule).status_code == 201
    run = ks.run_now("nightly")
    assert run is not None and run.kind == "SparkApplication"
    assert run.name.startswith("nightly-") and run.state == "New"
    assert ks.run_now("nightly") is None  # Forbid: the first run is unfinished
