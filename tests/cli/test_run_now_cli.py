"""``kubespark run-now`` against an emulated server with the operator's CRDs (no operator).

The run is created as the operator names and labels runs; with concurrencyPolicy Forbid a second
run-now while the first is unfinished exits 1 and creates nothing; an absent schedule exits 2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator

runner = CliRunner()
API = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default"
TEMPLATE = {
    "type": "Scala",
    "mode": "cluster",
    "sparkVersion": "3.5.1",
    "image": "apache/spark:3.5.1",
    "mainClass": "org.apache.spark.examples.SparkPi",
    "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
}


@pytest.fixture(autouse=True)
def _own_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def run(emu: RunningEmulator, *args: str) -> Result:
    return runner.invoke(cli, [*args, "--kubeconfig", str(emu.kubeconfig_path)])


def runs(emu: RunningEmulator) -> list[dict[str, Any]]:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        items = client.get(f"{API}/sparkapplications").json()["items"]
    return list(items)


def test_run_now_creates_a_run_and_honours_forbid(emulator: RunningEmulator) -> None:
    assert run(emulator, "install-crds").exit_code == 0
    schedule = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": "nightly", "labels": {"team": "data"}},
        "spec": {"schedule": "@daily", "concurrencyPolicy": "Forbid", "template": TEMPLATE},
    }
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        created = client.post(f"{API}/scheduledsparkapplications", json=schedule)
        assert created.status_code == 201, created.text
    first = run(emulator, "run-now", "nightly")
    assert first.exit_code == 0, first.output
    found = re.fullmatch(
        r"sparkapplication/(nightly-\d+) created from scheduledsparkapplication/nightly in "
        r"default\n",
        first.stdout,
    )
    assert found, first.stdout
    [made] = runs(emulator)
    assert made["metadata"]["name"] == found.group(1)
    assert made["metadata"]["labels"] == {
        "team": "data",
        "sparkoperator.k8s.io/scheduled-app-name": "nightly",
    }
    assert made["metadata"]["ownerReferences"][0]["uid"] == created.json()["metadata"]["uid"]
    assert made["spec"]["mainClass"] == TEMPLATE["mainClass"]
    # Forbid: the first run has not finished (no operator here moves it on).
    blocked = run(emulator, "run-now", "nightly", "-o", "json")
    assert blocked.exit_code == 1, blocked.output
    view = json.loads(blocked.stdout)
    assert view["run"] is None and view["blockedBy"] == found.group(1)
    assert len(runs(emulator)) == 1
    # The Event on the schedule says who started the run.
    events = run(emulator, "events", "nightly").stdout
    assert f"started run {found.group(1)} now (kubespark run-now)" in events
    missing = run(emulator, "run-now", "absent")
    assert missing.exit_code == 2
    assert "no ScheduledSparkApplication 'absent' in namespace 'default'" in missing.stderr
    assert "Traceback" not in missing.output
