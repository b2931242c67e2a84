"""Shared by the end-to-end tests: the SparkPi application, the CLI, and reading the server back."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import Result
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator

runner = CliRunner()

# SparkPi as pyspark_env.spark_submit_command submits it with spark-submit, as a SparkApplication.
SPARK_PI: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi", "namespace": "spark-jobs"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "image": "apache/spark:3.5.1",
        "sparkVersion": "3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
        "arguments": ["1000"],
        "driver": {
            "cores": 1,
            "memory": "512m",
            "serviceAccount": "spark",
            "labels": {"team": "data"},
        },
        "executor": {"instances": 2, "cores": 1, "memory": "512m"},
    },
}


def spark_pi(**driver_annotations: str) -> dict[str, Any]:
    app = copy.deepcopy(SPARK_PI)
    if driver_annotations:
        app["spec"]["driver"]["annotations"] = dict(driver_annotations)
    return app


def write_app(tmp_path: Path, app: dict[str, Any]) -> Path:
    path = tmp_path / f"{app['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(app, sort_keys=False))
    return path


def kubespark(emu: RunningEmulator, *args: str) -> Result:
    """Run a kubespark command in-process against ``emu`` (over HTTP, through its kubeconfig)."""
    return runner.invoke(cli, [*args, "--kubeconfig", str(emu.kubeconfig_path)])


def prepare(emu: RunningEmulator, namespace: str = "spark-jobs") -> None:
    """The namespace and the driver's service account, as a cluster admin would set them up."""
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        client.post(
            "/api/v1/namespaces",
            json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        )
        answer = client.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts",
            json={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}},
        )
        assert answer.status_code in (201, 409), answer.text


def get(emu: RunningEmulator, path: str) -> dict[str, Any]:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        answer = client.get(path)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def stored(emu: RunningEmulator, namespace: str = "spark-jobs") -> dict[str, list[str]]:
    """Names of the pods, services and configmaps the server holds in ``namespace``."""
    return {
        plural: sorted(
            i["metadata"]["name"]
            for i in get(emu, f"/api/v1/namespaces/{namespace}/{plural}")["items"]
        )
        for plural in ("pods", "services", "configmaps")
    }


def nothing_stored(emu: RunningEmulator, namespace: str = "spark-jobs") -> bool:
    return stored(emu, namespace) == {"pods": [], "services": [], "configmaps": []}


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether ``check`` holds within ``seconds`` (the kubelet and GC work asynchronously)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
