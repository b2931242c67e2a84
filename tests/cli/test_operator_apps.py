"""One view of applications: the operator's custom resources beside ``kubespark submit``'s.

Against an emulated server with the operator's CRDs installed (``kubespark install-crds``), over
real HTTP: ``list`` shows SparkApplications, ScheduledSparkApplications and direct submissions
together (namespace said, ``-A``, ``-l``, ``-o wide|json|yaml|name``); ``suspend``/``resume``
write ``spec.suspend`` the operator acts on. Without the CRDs, ``list`` still lists submissions.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import httpx
import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator
from kubespark.operator.sparkconnect import connect_status

runner = CliRunner()
API = "/apis/sparkoperator.k8s.io/v1beta2"

SPARK_PI: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi", "labels": {"team": "data"}},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "sparkVersion": "3.5.1",
        "image": "apache/spark:3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
        "driver": {"cores": 1, "memory": "512m"},
        "executor": {"instances": 2, "cores": 1, "memory": "512m"},
    },
}


def run(emu: RunningEmulator, *args: str) -> Result:
    return runner.invoke(cli, [*args, "--kubeconfig", str(emu.kubeconfig_path)])


def ok(emu: RunningEmulator, *args: str) -> Result:
    result = run(emu, *args)
    assert result.exit_code == 0, result.output
    return result


pytestmark = pytest.mark.usefixtures("own_caches")


def _create(emu: RunningEmulator, plural: str, obj: dict[str, Any], ns: str = "default") -> None:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        response = client.post(f"{API}/namespaces/{ns}/{plural}", json=obj)
        assert response.status_code == 201, response.text


def _with_crds(emu: RunningEmulator) -> None:
    ok(emu, "install-crds")
    app = copy.deepcopy(SPARK_PI)
    _create(emu, "sparkapplications", app)
    other = copy.deepcopy(SPARK_PI)
    other["metadata"] = {"name": "untagged"}
    _create(emu, "sparkapplications", other, ns="kube-public")
    scheduled = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": "nightly", "labels": {"team": "data"}},
        "spec": {"schedule": "@daily", "template": copy.deepcopy(SPARK_PI["spec"])},
    }
    _create(emu, "scheduledsparkapplications", scheduled)


def test_list_shows_the_operators_applications_and_says_where(emulator: RunningEmulator) -> None:
    _with_crds(emulator)
    table = ok(emulator, "list").stdout
    assert "KIND" in table and "ATTEMPTS" in table and "DRIVER POD" not in table
    lines = {line.split()[1]: line.split() for line in table.splitlines()[1:]}
    assert lines["spark-pi"][:4] == ["default", "spark-pi", "sparkapp", "New"]
    assert lines["nightly"][2] == "scheduledsparkapp"
    assert "untagged" not in lines
    assert "DRIVER POD" in ok(emulator, "list", "-o", "wide").stdout
    view = json.loads(ok(emulator, "list", "-A", "-o", "json").stdout)
    assert view["namespace"] is None
    assert sorted((i["namespace"], i["name"], i["kind"]) for i in view["items"]) == [
        ("default", "nightly", "ScheduledSparkApplication"),
        ("default", "spark-pi", "SparkApplication"),
        ("kube-public", "untagged", "SparkApplication"),
    ]
    spark_pi = next(i for i in view["items"] if i["name"] == "spark-pi")
    assert spark_pi["sparkVersion"] == "3.5.1" and spark_pi["submissionAttempts"] == 0
    as_yaml = yaml.safe_load(ok(emulator, "list", "-o", "yaml").stdout)
    assert as_yaml["namespace"] == "default" and len(as_yaml["items"]) == 2
    names = ok(emulator, "list", "-A", "-l", "team=data", "-o", "name").stdout.split()
    assert sorted(names) == ["scheduledsparkapplication/nightly", "sparkapplication/spark-pi"]
    assert ok(emulator, "list", "-l", "team!=data", "-o", "name").stdout == ""


def test_list_without_crds_names_the_namespace_it_looked_in(emulator: RunningEmulator) -> None:
    result = ok(emulator, "list", "-n", "kube-public")
    assert "no Spark applications in namespace kube-public" in result.stdout


def test_suspend_and_resume_write_spec_suspend(emulator: RunningEmulator) -> None:
    _with_crds(emulator)
    assert "scheduledsparkapplication/nightly suspended in default" in (
        ok(emulator, "suspend", "nightly").stdout
    )
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        obj = client.get(f"{API}/namespaces/default/scheduledsparkapplications/nightly").json()
    assert obj["spec"]["suspend"] is True
    view = json.loads(ok(emulator, "resume", "nightly", "-o", "json").stdout)
    assert view["suspended"] is False and view["kind"] == "ScheduledSparkApplication"
    suspended = json.loads(ok(emulator, "suspend", "spark-pi", "-o", "json").stdout)
    assert suspended["suspended"] is True and suspended["kind"] == "SparkApplication"
    # kubectl patch's other formats: the same view as YAML, and kind/name.
    resumed = yaml.safe_load(ok(emulator, "resume", "spark-pi", "-o", "yaml").stdout)
    assert resumed["suspended"] is False and resumed["name"] == "spark-pi"
    assert ok(emulator, "suspend", "nightly", "-o", "name").stdout == (
        "scheduledsparkapplication/nightly\n"
    )
    missing = run(emulator, "suspend", "absent")
    assert missing.exit_code == 2
    assert "no SparkApplication or ScheduledSparkApplication 'absent'" in missing.stderr
    assert "Traceback" not in missing.output


def _write_status(emu: RunningEmulator, plural: str, name: str, status: dict[str, Any]) -> None:
    # What the operator writes, written here through the same status subresource.
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        response = client.patch(
            f"{API}/namespaces/default/{plural}/{name}/status",
            json={"status": status},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200, response.text
        event = {
            "metadata": {"name": f"{name}.1"},
            "involvedObject": {"kind": "SparkApplication", "name": name, "namespace": "default"},
            "type": "Warning",
            "reason": "SparkApplicationFailed",
            "message": "driver failed: OOMKilled",
            "count": 2,
        }
        response = client.post("/api/v1/namespaces/default/events", json=event)
        assert response.status_code == 201, response.text


def test_status_of_a_spark_application_reads_the_operators_status(
    emulator: RunningEmulator,
) -> None:
    _with_crds(emulator)
    _write_status(
        emulator,
        "sparkapplications",
        "spark-pi",
        {
            "applicationState": {"state": "FAILED", "errorMessage": "driver OOMKilled"},
            "submissionAttempts": 2,
            "executionAttempts": 2,
            "driverInfo": {"podName": "spark-pi-driver"},
            "executorState": {"spark-pi-exec-1": "FAILED"},
            "compatNotes": ["server 1.19.0: created the Service with POST instead of apply"],
        },
    )
    result = run(emulator, "status", "spark-pi")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "spark-pi in default · SparkApplication · Spark 3.5.1" in out
    assert "state      FAILED" in out and "error      driver OOMKilled" in out
    assert "attempts   2 submissions, 2 executions" in out
    assert "executors  spark-pi-exec-1: FAILED" in out
    assert out.count("created the Service with POST instead of apply") == 1
    assert "Warning SparkApplicationFailed (x2): driver failed: OOMKilled" in out
    # Failed: the doctor reads the resource and its Events, as `kubespark doctor --app` does
    # (with no driver pod to read, the OOMKilled it finds is a signal, not a diagnosis).
    assert "diagnosis (kubespark doctor" in out
    assert "cluster: sparkapplication default/spark-pi" in out
    assert re.search(r"OOMKilled  cluster: sparkapplication default/spark-pi:\d+", out), out
    view = json.loads(run(emulator, "status", "nightly", "-o", "json").stdout)
    assert view["kind"] == "ScheduledSparkApplication" and view["schedule"] == "@daily"
    missing = run(emulator, "status", "absent")
    assert missing.exit_code == 2
    assert "no kubespark submission, SparkApplication, ScheduledSparkApplication or" in (
        missing.stderr
    )


def test_logs_and_delete_of_a_spark_application(emulator: RunningEmulator) -> None:
    _with_crds(emulator)
    waiting = run(emulator, "logs", "spark-pi")
    assert waiting.exit_code == 1
    assert "SparkApplication spark-pi has no driver pod yet (state New)" in waiting.stderr
    # The driver the operator would have made: a pod named in status.driverInfo.
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        pod = {
            "metadata": {"name": "spark-pi-driver"},
            "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "busybox"}]},
        }
        assert client.post("/api/v1/namespaces/default/pods", json=pod).status_code == 201
    _write_status(
        emulator, "sparkapplications", "spark-pi", {"driverInfo": {"podName": "spark-pi-driver"}}
    )
    logs = run(emulator, "logs", "spark-pi")
    # busybox logs nothing; reading the named pod's log succeeds (an absent pod would not).
    assert logs.exit_code == 0 and logs.stderr == "", logs.output
    gone = ok(emulator, "delete", "spark-pi")
    assert "SparkApplication default/spark-pi" in gone.stdout and "spark-pi is gone" in gone.stdout
    names = ok(emulator, "list", "-o", "name").stdout.split()
    assert names == ["scheduledsparkapplication/nightly"]


def test_events_of_a_spark_application_and_of_a_submission(
    emulator: RunningEmulator, tmp_path: Any
) -> None:
    _with_crds(emulator)
    _write_status(emulator, "sparkapplications", "spark-pi", {"submissionAttempts": 1})
    table = ok(emulator, "events", "spark-pi").stdout
    assert "SparkApplication/spark-pi  Warning SparkApplicationFailed (x2)" in table
    as_yaml = yaml.safe_load(ok(emulator, "events", "spark-pi", "-o", "yaml").stdout)
    assert [e["reason"] for e in as_yaml["items"]] == ["SparkApplicationFailed"]
    # A direct submission: the Events of its driver pod (the emulated scheduler's among them).
    direct = copy.deepcopy(SPARK_PI)
    direct["metadata"] = {"name": "direct"}
    path = tmp_path / "direct.yaml"
    path.write_text(yaml.safe_dump(direct))
    ok(emulator, "submit", str(path), "--wait")
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        for name, pod in (("about-driver", "direct-driver"), ("about-other", "other-pod")):
            event = {
                "metadata": {"name": name},
                "involvedObject": {"kind": "Pod", "name": pod, "namespace": "default"},
                "type": "Normal",
                "reason": "Started",
                "message": f"Started container of {pod}",
            }
            assert client.post("/api/v1/namespaces/default/events", json=event).status_code == 201
    view = json.loads(ok(emulator, "events", "direct", "-o", "json").stdout)
    involved = {e["involvedObject"]["name"] for e in view["items"]}
    assert "direct-driver" in involved  # and the executors the driver started, by their names
    assert all(n == "direct-driver" or "-exec-" in n for n in involved), involved
    assert "Started container of direct-driver" in {e["message"] for e in view["items"]}
    assert "no application 'absent'" in run(emulator, "events", "absent").stderr


CONNECT_API = "/apis/sparkoperator.k8s.io/v1alpha1/namespaces/default/sparkconnects"


def _spark_connect(emu: RunningEmulator, *, ready: bool) -> None:
    """A SparkConnect with the status the operator's reconciler builds (connect_status) from a
    server pod and three executor pods, two of them running."""
    connect = {
        "apiVersion": "sparkoperator.k8s.io/v1alpha1",
        "kind": "SparkConnect",
        "metadata": {"name": "sc", "labels": {"team": "data"}},
        "spec": {
            "sparkVersion": "4.0.1",
            "image": "apache/spark:4.0.1",
            "server": {"cores": 1},
            "executor": {"instances": 3},
        },
    }
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    pod = {
        "metadata": {"name": "sc-server"},
        "status": {"podIP": "10.0.0.9", "conditions": conditions, "message": "pulling"},
    }
    executors = [{"status": {"phase": p}} for p in ("Running", "Running", "Pending")]
    status = connect_status({}, pod, "sc-server", executors, "2026-12-07T09:00:00Z")
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        created = client.post(CONNECT_API, json=connect)
        assert created.status_code == 201, created.text
        response = client.patch(
            f"{CONNECT_API}/sc/status",
            json={"status": status},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200, response.text


def test_spark_connects_are_listed_shown_and_deleted_beside_applications(
    emulator: RunningEmulator,
) -> None:
    _with_crds(emulator)
    _spark_connect(emulator, ready=True)
    rows = {line.split()[1]: line.split() for line in ok(emulator, "list").stdout.splitlines()[1:]}
    assert rows["sc"][2:6] == ["sparkconnect", "Ready", "2/3", "4.0.1"]
    items = json.loads(ok(emulator, "list", "-l", "team=data", "-o", "json").stdout)["items"]
    connect = next(i for i in items if i["kind"] == "SparkConnect")
    assert (connect["serverPod"], connect["service"]) == ("sc-server", "sc-server")
    assert connect["executors"] == {"running": "2", "pending": "1"}
    shown = ok(emulator, "status", "sc").stdout
    assert "sc in default · SparkConnect · Spark 4.0.1" in shown
    assert "server     sc-server" in shown
    assert "connect    sc://sc-server.default.svc:15002" in shown
    assert "executors  pending: 1, running: 2" in shown
    assert "/api/v1/namespaces/default/services/sc-server:4040/proxy/" in shown  # the Spark UI
    # The server pod's log, as a driver's: the pod the operator would have made.
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        pod = {
            "metadata": {"name": "sc-server"},
            "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "busybox"}]},
        }
        assert client.post("/api/v1/namespaces/default/pods", json=pod).status_code == 201
    deadline = time.monotonic() + 20  # until the kubelet has started its container
    while (logs := run(emulator, "logs", "sc")).exit_code and time.monotonic() < deadline:
        assert "is waiting to start" in logs.stderr, logs.output  # the pod was found
        time.sleep(0.1)
    assert logs.exit_code == 0 and logs.stderr == "", logs.output
    refused = run(emulator, "suspend", "sc")
    assert refused.exit_code == 2
    assert "SparkConnect default/sc cannot be suspended" in refused.stderr
    assert "kubespark delete sc -n default" in refused.stderr
    gone = ok(emulator, "delete", "sc")
    assert "SparkConnect default/sc" in gone.stdout and "sc is gone" in gone.stdout
    assert "sparkconnect/sc" not in ok(emulator, "list", "-o", "name").stdout.split()


def test_a_spark_connect_not_ready_says_why(emulator: RunningEmulator) -> None:
    _with_crds(emulator)
    _spark_connect(emulator, ready=False)
    shown = ok(emulator, "status", "sc").stdout
    assert "state      NotReady" in shown
    assert "waiting    Server pod is not ready: pulling" in shown
    assert "spark ui" not in shown  # the UI is there only while the server is ready
