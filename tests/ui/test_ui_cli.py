"""``kubespark ui`` and ``kubespark operator --ui-listen`` as a user starts them (subprocesses).

Each prints its address, serves the dashboard from the emulated cluster, and stops on SIGTERM
with exit code 0; a bad ``--listen`` is one message and exit code 2.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator

KUBESPARK = [sys.executable, "-m", "kubespark"]


def _serve_and_stop(command: list[str]) -> dict[str, object]:
    """Start ``command``, read the dashboard's URL from its output, ask it, SIGTERM it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        assert process.stdout is not None
        url = ""
        deadline = time.monotonic() + 90
        seen = []
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else ""
        assert url, "".join(seen)
        session = httpx.get(url + "api/session", timeout=10).json()
        apps = httpx.get(url + "api/apps", timeout=10).json()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, process.stdout.read()
    return {"session": session, "apps": apps}


def test_kubespark_ui_serves_and_stops_on_sigterm(emulator: RunningEmulator) -> None:
    got = _serve_and_stop(
        [*KUBESPARK, "ui", "--kubeconfig", str(emulator.kubeconfig_path), "--listen", ":0"]
    )
    session = got["session"]
    assert isinstance(session, dict)
    assert (session["actions"], session["version"]) == (False, "v1.19.0")


@pytest.mark.slow
def test_the_operator_serves_the_dashboard_with_a_flag(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    got = _serve_and_stop(
        [
            *KUBESPARK,
            "operator",
            "--kubeconfig",
            str(emulator.kubeconfig_path),
            "--standalone",
            "--metrics-port",
            "0",
            "--ui-listen",
            "127.0.0.1:0",
            "--ui-allow-actions",
        ]
    )
    session = got["session"]
    assert isinstance(session, dict) and session["actions"] is True


@pytest.mark.parametrize("listen", ["8080", "localhost:http"])
def test_a_bad_listen_address_is_one_message_and_exit_2(listen: str) -> None:
    done = CliRunner().invoke(cli, ["ui", "--listen", listen])
    assert done.exit_code == 2
    assert "--listen" in done.stderr and "HOST:PORT" in done.stderr
    assert done.exception is None or isinstance(done.exception, SystemExit)
