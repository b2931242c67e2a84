"""The doctor never takes kubespark's own compat notes as evidence of a failure.

``kubespark submit`` on an old server records what it changed (``kubespark.io/compat-notes`` on
the driver pod, ``status.compatNotes`` on a SparkApplication), quoting the server's apply
refusal it worked around. A healthy pod carrying those notes, piped to ``kubespark doctor``, must
not be diagnosed with the very issue kubespark avoided.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubespark.cli.app import app
from kubespark.doctor.engine import examine_text
from kubespark.emulator.testing import RunningEmulator
from kubespark.kube.client import KubeClient
from kubespark.kube.requests import KubeRequest

runner = CliRunner()

SPARK_PI: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi", "namespace": "default"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "image": "apache/spark:3.5.1",
        "sparkVersion": "3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
        "driver": {"cores": 1, "memory": "512m"},
        "executor": {"instances": 1, "cores": 1, "memory": "512m"},
    },
}


pytestmark = pytest.mark.usefixtures("own_caches")


@pytest.mark.emulator(version="1.19")
def test_a_pod_kubespark_submitted_to_an_old_server_is_not_diagnosed(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(SPARK_PI))
    kubeconfig = str(emulator.kubeconfig_path)
    submitted = runner.invoke(app, ["submit", str(path), "--wait", "--kubeconfig", kubeconfig])
    assert submitted.exit_code == 0, submitted.output

    async def driver_pod() -> dict[str, Any]:
        async with KubeClient.from_kubeconfig(kubeconfig) as client:
            pods = await client.send(
                KubeRequest(
                    "GET", "/api/v1/namespaces/default/pods?labelSelector=spark-role%3Ddriver"
                )
            )
            return dict(pods["items"][0])

    pod = emulator.call(driver_pod())
    notes = pod["metadata"]["annotations"]["kubespark.io/compat-notes"]
    assert "1.19" in notes  # the notes are there, quoting what the old server refused
    pod_yaml = yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", **pod})

    result = runner.invoke(app, ["doctor", "-", "-o", "json"], input=pod_yaml)
    assert result.exit_code == 0, result.output
    # The same notes as kubectl describe prints them (one text line) are not evidence either.
    described = f"Annotations:  kubespark.io/compat-notes: {notes}\nStatus:  Succeeded\n"
    assert examine_text(described).diagnoses == ()


def test_a_sparkapplications_compat_notes_are_not_evidence() -> None:
    note = (
        "server 1.19.0: created the Service with POST instead of apply (.spec.ipFamilies: field "
        "not declared in schema); dropped spec.ipFamilies (added in 1.20)"
    )
    document = yaml.safe_dump(
        {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": "SparkApplication",
            "metadata": {"name": "spark-pi"},
            "status": {"applicationState": {"state": "COMPLETED"}, "compatNotes": [note]},
        }
    )
    report = examine_text(document)
    assert report.diagnoses == ()
    # The same text as a real failure's errorMessage is still diagnosed.
    failing = f"errorMessage: {note}\nstate: SUBMISSION_FAILED"
    assert "spark35-ssa-old-k8s" in [d.issue.id for d in examine_text(failing).diagnoses]


def test_compat_notes_as_kubectl_describe_lists_them_are_not_evidence() -> None:
    described = (
        "Status:\n"
        "  Application State:\n"
        "    State:  COMPLETED\n"
        "  Compat Notes:\n"
        "    server 1.19.16: created the Service with POST instead of apply (.spec.ipFamilies: "
        "field not declared in schema); dropped spec.ipFamilies (added in 1.20)\n"
    )
    assert examine_text(described).diagnoses == ()


def test_the_operators_event_repeating_the_notes_is_not_evidence() -> None:
    """The operator's ``SparkApplicationCompatNotes`` Event, as ``doctor --app`` reads the
    Events (a YAML list), quotes the same refusals: a driver that failed for its own reasons
    must not be diagnosed with the issue kubespark worked around."""
    note = (
        "server 1.19.0: server-side apply of this Service would fail with HTTP 500: .spec.ports: "
        'element 0: associative list with keys has an element that omits key field "protocol"; '
        ".spec.ipFamilies: field not declared in schema"
    )
    events = {
        "kind": "EventList",
        "items": [
            {
                "type": "Normal",
                "reason": "SparkApplicationCompatNotes",
                "involvedObject": {"kind": "SparkApplication", "name": "spark-pi"},
                "message": note,
            }
        ],
    }
    report = examine_text(yaml.safe_dump(events), "cluster: events of sparkapplication spark-pi")
    assert report.diagnosis("spark35-ssa-old-k8s") is None
