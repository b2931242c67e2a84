"""``logs --previous``/``--executor``/``--all-executors`` and ``status -o``, against the emulator.

Over real HTTP: executor logs are found by ``spark-app-selector`` and ``spark-exec-id`` and
prefixed as ``kubectl logs --prefix`` prefixes them; ``--previous`` reads the previous instance
of a restarted container, or says the server's reason when there is none; ``status -o`` takes
list's formats; a running driver's status shows the Spark UI through the service proxy.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator

runner = CliRunner()
API = "/apis/sparkoperator.k8s.io/v1beta2"
RUN_LONG = {"kubespark.io/emulate-run-seconds": "3600"}

SPARK_PI: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "sparkVersion": "3.5.1",
        "image": "apache/spark:3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
        "driver": {"cores": 1, "memory": "512m", "annotations": RUN_LONG},
        "executor": {
            "instances": 2,
            "cores": 1,
            "memory": "512m",
            "annotations": {"kubespark.io/emulate-log": "executor started\ntask 0 done"},
        },
    },
}


@pytest.fixture(autouse=True)
def _own_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def run(emu: RunningEmulator, *args: str) -> Result:
    return runner.invoke(cli, [*args, "--kubeconfig", str(emu.kubeconfig_path)])


def ok(emu: RunningEmulator, *args: str) -> Result:
    result = run(emu, *args)
    assert result.exit_code == 0, result.output
    return result


def until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)


def running_submission(emu: RunningEmulator, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "spark-pi.yaml"
    path.write_text(yaml.safe_dump(SPARK_PI))
    ok(emu, "submit", str(path))

    def executors_running() -> bool:
        view = json.loads(run(emu, "status", "spark-pi", "-o", "json").stdout)
        states = [e["state"] for e in view["executors"]]
        return view["state"] == "RUNNING" and states == ["RUNNING", "RUNNING"]

    until(executors_running)
    view: dict[str, Any] = json.loads(ok(emu, "status", "spark-pi", "-o", "json").stdout)
    return view


def test_executor_logs_one_and_all_prefixed(emulator: RunningEmulator, tmp_path: Path) -> None:
    view = running_submission(emulator, tmp_path)
    pods = sorted(e["name"] for e in view["executors"])
    every = ok(emulator, "logs", "spark-pi", "--all-executors").stdout.splitlines()
    assert every == [
        f"[pod/{pod}/spark-kubernetes-executor] {line}"
        for pod in pods
        for line in ("executor started", "task 0 done")
    ]
    second = ok(emulator, "logs", "spark-pi", "--executor", "2", "--tail", "1").stdout
    assert second == "task 0 done\n"
    prefixed = ok(emulator, "logs", "spark-pi", "--executor", "1", "--prefix").stdout
    assert prefixed.startswith(f"[pod/{pods[0]}/spark-kubernetes-executor] executor started")
    missing = run(emulator, "logs", "spark-pi", "--executor", "9")
    assert missing.exit_code == 2
    assert "has no executor 9 (its executors: 1, 2)" in missing.stderr
    both = run(emulator, "logs", "spark-pi", "--executor", "1", "--all-executors")
    assert both.exit_code == 2 and "give one of --executor N and --all-executors" in both.stderr
    # The driver never restarted (restartPolicy Never): the server's reason, exit 1.
    none = run(emulator, "logs", "spark-pi", "--previous")
    assert none.exit_code == 1
    assert (
        'previous terminated container "spark-kubernetes-driver" in pod "spark-pi-driver" '
        "not found" in none.stderr
    )
    assert "Traceback" not in none.output


def test_status_shows_the_spark_ui_and_takes_lists_formats(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    running_submission(emulator, tmp_path)
    text = ok(emulator, "status", "spark-pi").stdout
    found = re.search(r"spark ui   (\S+) \(without a token: kubespark ui-proxy spark-pi\)", text)
    assert found, text
    url = found.group(1)
    assert re.fullmatch(
        re.escape(emulator.url)
        + r"/api/v1/namespaces/default/services/spark-pi-[0-9a-f]{16}-driver-svc:4040/proxy/",
        url,
    ), url
    # The Service the URL names is the driver's and has that port.
    service = url.split("/services/")[1].split(":")[0]
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        ports = client.get(f"/api/v1/namespaces/default/services/{service}").json()["spec"]
    assert 4040 in [p["port"] for p in ports["ports"]]
    wide = ok(emulator, "status", "spark-pi", "-o", "wide").stdout
    assert re.search(r"node       emulated-node-1  ip 10\.244\.0\.\d+  restarts 0", wide), wide
    assert "(phase Running)" in wide
    as_yaml = yaml.safe_load(ok(emulator, "status", "spark-pi", "-o", "yaml").stdout)
    as_json = json.loads(ok(emulator, "status", "spark-pi", "-o", "json").stdout)
    assert as_yaml == as_json and as_yaml["kind"] == "Submission"
    assert as_yaml["uiService"] == f"{service}:4040"
    assert ok(emulator, "status", "spark-pi", "-o", "name").stdout == "submission/spark-pi\n"
    bad = run(emulator, "status", "spark-pi", "-o", "table")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def _operator_app_with_driver(emu: RunningEmulator, pod: dict[str, Any]) -> None:
    """A SparkApplication whose status names ``pod`` as its driver, as an operator writes it."""
    ok(emu, "install-crds")
    app = copy.deepcopy(SPARK_PI)
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        created = client.post(f"{API}/namespaces/default/sparkapplications", json=app)
        assert created.status_code == 201, created.text
        assert client.post("/api/v1/namespaces/default/pods", json=pod).status_code == 201
        status = {
            "applicationState": {"state": "RUNNING"},
            "driverInfo": {
                "podName": pod["metadata"]["name"],
                "webUIServiceName": "spark-pi-ui-svc",
                "webUIPort": 4040,
            },
        }
        written = client.put(
            f"{API}/namespaces/default/sparkapplications/spark-pi/status",
            json={**created.json(), "status": status},
        )
        assert written.status_code == 200, written.text


def test_previous_log_of_a_restarted_driver(emulator: RunningEmulator) -> None:
    pod = {
        "metadata": {
            "name": "spark-pi-driver",
            "annotations": {
                "kubespark.io/emulate-run-seconds": "2",
                "kubespark.io/emulate-exit-code": "1",
                "kubespark.io/emulate-log": "Exception in thread main\nexit 1",
            },
        },
        "spec": {
            "restartPolicy": "OnFailure",
            "containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark:3.5.1"}],
        },
    }
    _operator_app_with_driver(emulator, pod)

    def restarted() -> bool:
        with httpx.Client(base_url=emulator.url, timeout=10) as client:
            got = client.get("/api/v1/namespaces/default/pods/spark-pi-driver").json()
        statuses = got.get("status", {}).get("containerStatuses") or [{}]
        return int(statuses[0].get("restartCount") or 0) >= 1

    until(restarted)
    shown = ok(emulator, "logs", "spark-pi", "-p")
    assert shown.stdout == "Exception in thread main\nexit 1\n"
    conflicting = run(emulator, "logs", "spark-pi", "-p", "-f")
    assert conflicting.exit_code == 2 and "drop -f" in conflicting.stderr
    # The operator's application: its UI Service from status.driverInfo, while it runs.
    text = ok(emulator, "status", "spark-pi").stdout
    assert (
        f"spark ui   {emulator.url}/api/v1/namespaces/default/services/spark-pi-ui-svc:4040/proxy/"
        in text
    )
    assert ok(emulator, "status", "spark-pi", "-o", "name").stdout == (
        "sparkapplication/spark-pi\n"
    )
    view = yaml.safe_load(ok(emulator, "status", "spark-pi", "-o", "yaml").stdout)
    assert view["kind"] == "SparkApplication" and view["state"] == "RUNNING"


def test_ui_proxy_forwards_to_the_service_proxy_until_interrupted(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    kubeconfig = str(emulator.kubeconfig_path)
    not_loopback = run(emulator, "ui-proxy", "spark-pi", "--address", "0.0.0.0")
    assert not_loopback.exit_code == 2 and "is not a loopback address" in not_loopback.stderr
    absent = run(emulator, "ui-proxy", "spark-pi")
    assert absent.exit_code == 2 and "no application 'spark-pi'" in absent.stderr
    view = running_submission(emulator, tmp_path)
    service = view["uiService"].split(":")[0]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg-cache")}
    command = [sys.executable, "-m", "kubespark", "ui-proxy", "spark-pi"]
    with subprocess.Popen(
        [*command, "--kubeconfig", kubeconfig],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            line = process.stdout.readline()
            found = re.fullmatch(r"Forwarding from (http://127\.0\.0\.1:\d+/) -> (\S+)\n", line)
            assert found, line + (process.stderr.read() if process.poll() is not None else "")
            assert found.group(2) == (
                f"{emulator.url}/api/v1/namespaces/default/services/{service}:4040/proxy/"
            )
            # The answer is the API server's (a Kubernetes Status or the UI), not the forward's.
            answer = httpx.get(found.group(1) + "jobs/", timeout=10)
            assert answer.status_code != 400, answer.text
            if answer.headers.get("content-type", "").startswith("application/json"):
                assert answer.json().get("kind") == "Status"
        finally:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # never leave it behind: the assertion below reports it
                code = process.wait()
        errors = process.stderr.read() if process.stderr else ""
    assert code == 0, errors


def test_describe_of_a_failed_driver_shows_its_events_and_the_doctors_diagnosis(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    app = copy.deepcopy(SPARK_PI)
    oom = {"kubespark.io/emulate-run-seconds": "1", "kubespark.io/emulate-oom-killed": "true"}
    app["spec"]["driver"]["annotations"] = oom
    path = tmp_path / "spark-pi.yaml"
    path.write_text(yaml.safe_dump(app))
    ok(emulator, "submit", str(path))
    until(lambda: run(emulator, "status", "spark-pi").exit_code == 1)
    described = run(emulator, "describe", "spark-pi")  # kubectl's name: the same view
    assert described.exit_code == 1
    text = described.stdout
    assert "FAILED" in text and "events:" in text
    assert "Normal Scheduled" in text  # the Events about the driver pod
    # The doctor read the pod, its Events and its log: the known issue, with its remedies.
    assert "diagnosis (kubespark doctor" in text
    assert "container-oom-killed" in text, text
    view = json.loads(ok_or_finding(emulator, "status", "spark-pi", "-o", "json").stdout)
    assert [d["issue"] for d in view["diagnosis"]["diagnoses"]][:1] == ["container-oom-killed"]
    assert any("Scheduled" in e for e in view["events"])


def ok_or_finding(emu: RunningEmulator, *args: str) -> Result:
    result = run(emu, *args)
    assert result.exit_code in (0, 1), result.output
    return result
