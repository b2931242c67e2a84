"""``kubespark status``, ``logs``, ``list`` and ``delete`` on applications ``submit`` created.

Against an emulated 1.19 server over real HTTP: applications are found by their driver pods'
labels alone (no CRD), their state and executors read from the pods, their compat notes from the
annotation ``submit`` wrote; ``delete`` removes the driver and everything its submission wrote.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from kubespark.apisurface import newest_version
from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("own_caches")

NEWEST = str(newest_version())
NETWORKING = "/apis/networking.k8s.io/v1"
RUN_LONG = {"kubespark.io/emulate-run-seconds": "3600"}  # emulated seconds: stays RUNNING

WriteApp = Callable[..., str]


@pytest.fixture
def app_file(tmp_path: Path, spark_pi: Callable[[str], dict[str, Any]]) -> WriteApp:
    """Writes a SparkPi named as asked, with driver annotations and ingress, to a file."""

    def write(
        name: str = "spark-pi",
        annotations: dict[str, str] | None = None,
        driver_ingress: dict[str, Any] | None = None,
    ) -> str:
        app = spark_pi(name)
        if annotations:
            app["spec"]["driver"]["annotations"] = annotations
        if driver_ingress:
            app["spec"]["driverIngressOptions"] = [driver_ingress]
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(app))
        return str(path)

    return write


def run(emu: RunningEmulator, *args: str) -> Result:
    return runner.invoke(cli, [*args, "--kubeconfig", str(emu.kubeconfig_path)])


def ok(emu: RunningEmulator, *args: str) -> Result:
    result = run(emu, *args)
    assert result.exit_code == 0, result.output
    return result


def status_json(emu: RunningEmulator, name: str, *args: str) -> dict[str, Any]:
    result = run(emu, "status", name, "-o", "json", *args)
    assert result.exit_code in (0, 1), result.output
    view: dict[str, Any] = json.loads(result.stdout)
    return view


def until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)


def names(
    emu: RunningEmulator, plural: str, namespace: str = "default", api: str = "/api/v1"
) -> list[str]:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        items = client.get(f"{api}/namespaces/{namespace}/{plural}").json()["items"]
    # The ``kubernetes`` Service is the cluster's own, there before anything is submitted.
    return [i["metadata"]["name"] for i in items if i["metadata"]["name"] != "kubernetes"]


def test_status_of_a_completed_application(emulator: RunningEmulator, app_file: WriteApp) -> None:
    ok(emulator, "submit", app_file(), "--wait")
    result = ok(emulator, "status", "spark-pi")
    out = result.stdout
    assert "spark-pi in default · Spark 3.5.1" in out
    assert "driver     spark-pi-driver: COMPLETED (phase Succeeded)" in out
    assert "created the Service with POST instead of apply" in out
    view = status_json(emulator, "spark-pi")
    assert view["state"] == "COMPLETED" and view["sparkVersion"] == "3.5.1"
    assert view["submissionId"] and view["sparkApplicationId"].startswith("spark-")
    assert view["objects"][0] == "Pod default/spark-pi-driver"
    kinds = sorted(o.split()[0] for o in view["objects"])
    assert kinds == ["ConfigMap", "ConfigMap", "Pod", "Service"]
    assert any("dropped spec.ipFamilies (added in 1.20)" in n for n in view["notes"])


def test_status_of_a_running_application_shows_its_executors(
    emulator: RunningEmulator, app_file: WriteApp
) -> None:
    ok(emulator, "submit", app_file(annotations=RUN_LONG))
    until(lambda: len(status_json(emulator, "spark-pi")["executors"]) == 2)
    until(
        lambda: {e["state"] for e in status_json(emulator, "spark-pi")["executors"]} == {"RUNNING"}
    )
    result = ok(emulator, "status", "spark-pi")
    assert "driver     spark-pi-driver: RUNNING" in result.stdout
    assert "executors  2 (2 running)" in result.stdout
    assert re.search(r"spark-pi-[0-9a-f]{16}-exec-1: RUNNING", result.stdout)


def test_list_finds_submitted_applications_by_label_only(
    emulator: RunningEmulator, app_file: WriteApp
) -> None:
    ok(emulator, "submit", app_file("first", RUN_LONG))
    ok(emulator, "submit", app_file("second", RUN_LONG), "-n", "kube-public")
    # A driver pod that kubespark did not submit (spark-submit, the kubeflow operator).
    foreign = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "other-driver", "labels": {"spark-role": "driver"}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark"}]},
    }
    with httpx.Client(base_url=emulator.url) as client:
        assert client.post("/api/v1/namespaces/default/pods", json=foreign).status_code == 201
    here = ok(emulator, "list").stdout
    assert "first" in here and "second" not in here and "other-driver" not in here
    everywhere = json.loads(ok(emulator, "list", "-A", "-o", "json").stdout)["items"]
    assert sorted((a["namespace"], a["name"]) for a in everywhere) == [
        ("default", "first"),
        ("kube-public", "second"),
    ]
    assert {a["driverPod"] for a in everywhere} == {"first-driver", "second-driver"}
    table = ok(emulator, "list", "-A").stdout
    assert "NAMESPACE" in table and "kube-public" in table and "3.5.1" in table


def test_list_in_an_empty_namespace_and_conflicting_flags(emulator: RunningEmulator) -> None:
    assert "no Spark applications in namespace default" in ok(emulator, "list").stdout
    result = run(emulator, "list", "-A", "-n", "default")
    assert result.exit_code == 2 and "-A/--all-namespaces" in result.stderr


def test_logs_of_the_driver(emulator: RunningEmulator, app_file: WriteApp) -> None:
    ok(emulator, "submit", app_file(), "--wait")
    log = ok(emulator, "logs", "spark-pi").stdout
    assert "Running Spark version 3.5.1" in log and "Pi is roughly" in log
    last = ok(emulator, "logs", "spark-pi", "--tail", "1").stdout
    assert last.count("\n") == 1 and last.strip() == log.strip().splitlines()[-1]


def test_logs_follow_waits_for_the_driver_and_streams_to_its_end(
    emulator: RunningEmulator, app_file: WriteApp
) -> None:
    slow_start = {"kubespark.io/emulate-start-seconds": "20"}  # 1 s at the test speed
    ok(emulator, "submit", app_file(annotations=slow_start))
    followed = ok(emulator, "logs", "spark-pi", "-f").stdout
    assert followed.splitlines()[0].endswith("Running Spark version 3.5.1")
    assert "Successfully stopped SparkContext" in followed
    assert status_json(emulator, "spark-pi")["state"] == "COMPLETED"


def test_logs_of_a_driver_that_cannot_start(emulator: RunningEmulator, app_file: WriteApp) -> None:
    stuck = {"kubespark.io/emulate-image-pull-failure": "true"}
    ok(emulator, "submit", app_file(annotations=stuck))
    until(lambda: status_json(emulator, "spark-pi")["waiting"] is not None)
    result = run(emulator, "logs", "spark-pi", "-f", "--timeout", "5")
    assert result.exit_code == 1, result.output
    assert "the driver cannot start" in result.stderr
    assert "ImagePullBackOff" in result.stderr or "ErrImagePull" in result.stderr


def test_delete_removes_the_driver_and_everything_it_wrote(
    emulator: RunningEmulator, app_file: WriteApp
) -> None:
    ingress = {
        "servicePort": 4041,
        "servicePortName": "ui-4041",
        "ingressURLFormat": "{{$appName}}.spark.example.com",
    }
    ok(emulator, "submit", app_file(annotations=RUN_LONG, driver_ingress=ingress))
    until(lambda: len(names(emulator, "pods")) == 3)  # the driver and two executors
    assert names(emulator, "ingresses", api=NETWORKING) == ["spark-pi-ing-4041"]
    result = ok(emulator, "delete", "spark-pi")
    out = result.stdout
    for removed in (
        "Pod default/spark-pi-driver",
        "Pod default/spark-pi-[0-9a-f]{16}-exec-1",
        "Pod default/spark-pi-[0-9a-f]{16}-exec-2",
        "Service default/spark-pi-driver-4041",
        "Ingress default/spark-pi-ing-4041",
    ):
        assert re.search(f"removed {removed}", out), removed
    # the driver's and the ingress's Services; the spark.properties and template ConfigMaps
    assert out.count("removed Service") == 2 and out.count("removed ConfigMap") == 2
    assert "✓ spark-pi is gone" in out
    assert names(emulator, "pods") == names(emulator, "services") == []
    assert names(emulator, "configmaps") == []
    assert names(emulator, "ingresses", api=NETWORKING) == []
    gone = run(emulator, "status", "spark-pi")
    assert gone.exit_code == 2 and "kubespark list -A" in gone.stderr


def test_a_name_in_use_is_refused_with_the_way_out(
    emulator: RunningEmulator, app_file: WriteApp
) -> None:
    ok(emulator, "submit", app_file(annotations=RUN_LONG))
    again = run(emulator, "submit", app_file(annotations=RUN_LONG))
    assert again.exit_code == 1
    assert "Pod default/spark-pi-driver already exists" in again.stdout
    assert "kubespark delete spark-pi -n default, then submit again" in again.stdout
    assert len([n for n in names(emulator, "configmaps") if n.endswith("conf-map")]) == 2
    ok(emulator, "delete", "spark-pi")
    ok(emulator, "submit", app_file(), "--wait")


def test_unknown_application(emulator: RunningEmulator) -> None:
    for command in ("status", "logs", "delete"):
        result = run(emulator, command, "absent")
        assert result.exit_code == 2, command
        assert result.stderr.startswith("error: absent: no application 'absent'")


@pytest.mark.emulator(version=NEWEST)
def test_where_the_server_needed_nothing_no_notes_are_recorded(
    emulator: RunningEmulator, app_file: WriteApp
) -> None:
    ok(emulator, "submit", app_file())
    with httpx.Client(base_url=emulator.url) as client:
        pod = client.get("/api/v1/namespaces/default/pods/spark-pi-driver").json()
    assert "kubespark.io/compat-notes" not in (pod["metadata"].get("annotations") or {})
    assert "compat notes: none" in ok(emulator, "status", "spark-pi").stdout
