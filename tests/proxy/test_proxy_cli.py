"""``kubespark proxy`` as users run it: a process that serves until SIGTERM, logs without
credentials, and turns bad flags into one message and exit code 2."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kubespark.cli.app import app
from kubespark.emulator.testing import RunningEmulator
from kubespark.proxy import ProxyOptions, ProxyThread

KUBESPARK = [sys.executable, "-m", "kubespark"]
UPSTREAM_TOKEN = "upstream-token-must-not-be-logged-4242"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def upstream_kubeconfig(emulator: RunningEmulator, path: Path) -> Path:
    """The emulator's kubeconfig with a token distinctive enough to search logs for."""
    doc = yaml.safe_load(emulator.kubeconfig_path.read_text())
    doc["users"][0]["user"] = {"token": UPSTREAM_TOKEN}
    path.write_text(yaml.safe_dump(doc))
    return path


def wait_for_line(process: subprocess.Popen[str], pattern: str, seconds: float = 30) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if re.search(pattern, line):
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no line matching {pattern!r}")


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")
@pytest.mark.emulator(version="1.19")
def test_the_command_serves_clients_and_keeps_credentials_out_of_its_log(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    client_config = tmp_path / "client.yaml"
    args = [
        *KUBESPARK,
        "proxy",
        "--upstream-kubeconfig",
        str(upstream_kubeconfig(emulator, tmp_path / "upstream.yaml")),
        "--listen",
        "127.0.0.1:0",
        "--kubeconfig-out",
        str(client_config),
        "--tls-dir",
        str(tmp_path / "pki"),
        "--log-level",
        "debug",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            head = wait_for_line(process, r"kubespark proxy: https://127\.0\.0\.1:\d+")
            assert emulator.url in head
            wait_for_line(process, r"Ctrl-C stops it")
            manifest = (
                "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
                "spec: {ipFamilies: [IPv4], ports: [{port: 80}]}\n"
            )
            run = [KUBECTL, "--kubeconfig", str(client_config)]
            applied = subprocess.run(
                [*run, "apply", "--server-side", "--validate=false", "-f", "-"],
                input=manifest,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert applied.returncode == 0, applied.stderr
            listed = subprocess.run(
                [*run, "get", "services", "-o", "name"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert "service/s" in listed.stdout
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "rewrote the server-side apply PATCH /api/v1/namespaces/default/services/s" in err
    assert "GET /api/v1/namespaces/default/services -> 200" in err
    client_token = yaml.safe_load(client_config.read_text())["users"][0]["user"]["token"]
    for secret in (UPSTREAM_TOKEN, client_token):
        assert secret not in out and secret not in err


@pytest.mark.parametrize(
    ("flags", "where"),
    [
        (["--listen", "localhost"], "--listen"),
        (["--listen", "127.0.0.1:99999"], "--listen"),
        (["--listen", "0.0.0.0:0", "--plain-http"], "--listen"),
        (["--tls-cert", "cert.pem"], "--tls-cert/--tls-key"),
        (["--log-level", "loud"], "--log-level"),
        (["--upstream-kubeconfig", "does-not-exist.yaml"], "does-not-exist.yaml"),
    ],
)
def test_bad_flags_are_one_message_and_exit_2(
    flags: list[str], where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none.yaml"))
    result = CliRunner().invoke(app, ["proxy", *flags])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and where in result.output
    assert "Traceback" not in result.output


def test_a_listen_address_in_use_is_named(tmp_path: Path, emulator: RunningEmulator) -> None:
    port = emulator.url.rsplit(":", 1)[1]
    result = CliRunner().invoke(
        app,
        [
            "proxy",
            "--upstream-kubeconfig",
            str(emulator.kubeconfig_path),
            "--listen",
            f"127.0.0.1:{port}",
        ],
    )
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1:" in result.output and "choose a free port" in result.output


DOCS = Path(__file__).resolve().parents[2] / "docs" / "proxy.md"


def documented_block(marker: str) -> str:
    """The first ```sh block after ``<!-- test: MARKER`` in docs/proxy.md."""
    text = DOCS.read_text()
    after = text[text.index(f"<!-- test: {marker}") :]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match is not None
    return match.group(1)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")
def test_the_documented_openssl_pair_is_served_and_trusted(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    made = subprocess.run(
        ["bash", "-euc", documented_block("tls-pair")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    options = ProxyOptions(
        upstream_kubeconfig=emulator.kubeconfig_path,
        listen="127.0.0.1:0",
        tls_cert=tmp_path / "tls.crt",
        tls_key=tmp_path / "tls.key",
        tls_ca=tmp_path / "ca.crt",
        kubeconfig_out=tmp_path / "client.yaml",
    )
    with ProxyThread.running(options) as proxy:
        listed = subprocess.run(
            [KUBECTL, "--kubeconfig", str(tmp_path / "client.yaml"), "get", "ns", "-o", "name"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert listed.returncode == 0, listed.stderr
    assert "namespace/default" in listed.stdout
    assert proxy.requests > 0
