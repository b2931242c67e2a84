"""Every bundled version serves; the CLI starts, writes its kubeconfig, refuses bad input."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emu_helpers import Served, configmap, eventually, phase, pod
from typer.testing import CliRunner

from kubespark.apisurface import known_versions
from kubespark.cli.app import app
from kubespark.emulator import Emulator, EmulatorOptions
from kubespark.errors import InputError

KUBESPARK = Path(sys.executable).parent / "kubespark"


@pytest.mark.parametrize("version", [str(v) for v in known_versions()])
async def test_every_bundled_version_serves(serve: Any, version: str) -> None:
    async with serve(version) as (emu, client):
        info = (await client.get("/version")).json()
        assert info["gitVersion"].startswith(f"v{version}.")
        assert (await client.get("/apis")).status_code == 200
        resp = await client.post("/api/v1/namespaces/default/pods", json=pod("p"))
        assert resp.status_code == 201, resp.text
        running = await eventually(
            client, "/api/v1/namespaces/default/pods/p", lambda r: phase(r) == "Running"
        )
        assert phase(running) == "Running"
        assert emu.surface.version.minor == int(version.split(".")[1])


def test_a_version_without_data_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        Emulator(EmulatorOptions(version="1.12"))
    assert err.value.fix
    with pytest.raises(InputError):
        Emulator(EmulatorOptions(version="one.nineteen"))


async def test_a_patch_version_is_reported_and_behaves_as_that_patch(serve: Any) -> None:
    async with serve("1.20.5") as (emu, client):
        assert (await client.get("/version")).json()["gitVersion"] == "v1.20.5"
        assert emu.surface.server_version is not None
        assert str(emu.surface.server_version) == "1.20.5"


async def test_resource_version_match(api: Served) -> None:
    _, client = api
    created = (
        await client.post("/api/v1/namespaces/default/configmaps", json=configmap("a"))
    ).json()
    rv = created["metadata"]["resourceVersion"]
    path = "/api/v1/namespaces/default/configmaps"
    newer = await client.get(
        path, params={"resourceVersion": rv, "resourceVersionMatch": "NotOlderThan"}
    )
    assert newer.status_code == 200 and len(newer.json()["items"]) == 1
    current = newer.json()["metadata"]["resourceVersion"]
    exact = await client.get(
        path, params={"resourceVersion": current, "resourceVersionMatch": "Exact"}
    )
    assert exact.status_code == 200
    future = await client.get(path, params={"resourceVersion": str(int(current) + 100)})
    assert future.status_code == 504
    assert future.json()["message"].startswith("Too large resource version")
    without = await client.get(path, params={"resourceVersionMatch": "Exact"})
    assert without.status_code == 400


async def test_apply_refused_where_server_side_apply_is_off(api: Served) -> None:
    emu, client = api
    surface = emu.api.surface
    off = dataclasses.replace(surface.behaviours, server_side_apply=False)
    emu.api.surface = dataclasses.replace(surface, behaviours=off)
    resp = await client.patch(
        "/api/v1/namespaces/default/configmaps/x",
        content=b"{}",
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert resp.status_code == 415
    assert "application/apply-patch+yaml" not in resp.json()["message"]


def test_cli_serves_writes_a_kubeconfig_and_stops(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    cmd = [
        str(KUBESPARK),
        "emulate",
        "--k8s",
        "1.21",
        "--kubeconfig-out",
        str(kubeconfig),
        "--speed",
        "10",
        "--namespace",
        "spark-jobs",
        "--error-rate",
        "0",
    ]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            deadline = time.monotonic() + 30
            while not kubeconfig.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
            with httpx.Client(base_url=server) as client:
                assert client.get("/version").json()["gitVersion"] == "v1.21.0"
                assert client.get("/api/v1/namespaces/spark-jobs").status_code == 200
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"Kubernetes v1.21.0 at {server}" in out
    assert f"export KUBECONFIG={kubeconfig}" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k8s", "1.12"], "1.12"),
        (["--k8s", "banana"], "--k8s"),
        (["--error-rate", "2"], "error rate 2.0 is not a fraction"),
        (["--error-codes", "404"], "cannot inject HTTP"),
        (["--speed", "0"], "--speed"),
        (["--kubelet", "docker"], "--kubelet: unknown kubelet 'docker'"),
        (
            ["--authorization-mode", "abac"],
            "--authorization-mode: unknown authorization mode 'abac'",
        ),
        (["--spark-image-map", "corp/spark"], "--spark-image-map: 'corp/spark' is not IMAGE"),
    ],
)
def test_cli_bad_input_is_one_message_and_exit_2(args: list[str], message: str) -> None:
    # In this process, as the operator's flags are checked (tests/cli/test_flag_defaults.py):
    # the command as a process of its own is test_cli_serves_writes_a_kubeconfig_and_stops's.
    result = CliRunner().invoke(app, ["emulate", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output
