"""exec, attach and port-forward over WebSocket, with kubectl and the official Python client.

kubectl (1.30+ streams exec over WebSocket v5) and ``kubernetes.stream`` (v5/v4 exec, v4
port-forward) talk to the emulator unmodified. Simulated pods run an exec'd command as a local
process in a sandbox directory of their own; port-forward reaches what listens on a process
kubelet pod's address (a real HTTP server stands in for the pod's program).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from emu_helpers import listening
from kubernetes import client, config
from kubernetes.stream import portforward, stream

from kubespark.emulator.testing import RunningEmulator

KUBECTL = shutil.which("kubectl")
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "containers": [
            {"name": "main", "image": "busybox:1.36", "env": [{"name": "GREETING", "value": "hi"}]}
        ]
    },
}
Factory = Callable[..., RunningEmulator]
Core = Callable[[RunningEmulator], client.CoreV1Api]


@pytest.fixture
def core() -> Iterator[Callable[[RunningEmulator], client.CoreV1Api]]:
    """``core(emu)``: the official client's CoreV1Api for an emulator, closed after the test."""
    made: list[client.ApiClient] = []

    def make(emu: RunningEmulator) -> client.CoreV1Api:
        made.append(config.new_client_from_config(str(emu.kubeconfig_path)))
        return client.CoreV1Api(made[-1])

    yield make
    for api_client in made:
        api_client.close()


def _running(api: client.CoreV1Api, name: str, body: dict[str, Any] | None = None) -> str:
    api.create_namespaced_pod("default", body or POD)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = api.read_namespaced_pod(name, "default")
        if got.status.phase == "Running" and got.status.pod_ip:
            return str(got.status.pod_ip)
        time.sleep(0.05)
    raise AssertionError(f"pod {name} never ran")


def _release(resp: Any) -> None:
    """websocket-client leaves its socket open when the server closed the stream first (as
    apiserver does after the exit status); close it so the test leaks nothing."""
    raw = getattr(resp.sock, "sock", None)
    if raw is not None:
        raw.close()


def _release_forward(forward: Any) -> None:
    """Wait for the client's relay thread to see every local socket closed, then release."""
    forward.close()
    deadline = time.monotonic() + 10
    while forward.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    raw = getattr(forward.websocket, "sock", None)
    if raw is not None:
        raw.close()


def _kubectl(emu: RunningEmulator, *args: str, stdin: str | None = None) -> Any:
    assert KUBECTL is not None
    cmd = [KUBECTL, "--kubeconfig", str(emu.kubeconfig_path), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("version", ["1.19", "1.30"])
def test_python_client_exec(core: Core, emulator_factory: Factory, version: str) -> None:
    emu = emulator_factory(version)
    api = core(emu)
    _running(api, "web")

    def run(*command: str) -> tuple[str, str, str, int | None]:
        resp = stream(
            api.connect_get_namespaced_pod_exec,
            "web",
            "default",
            command=list(command),
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        resp.run_forever(timeout=20)
        try:
            error = resp.peek_channel(3)
            code = None if "InternalError" in error else resp.returncode
            return resp.read_stdout(), resp.read_stderr(), error, code
        finally:
            resp.close()
            _release(resp)

    out, err, _, code = run("sh", "-c", 'echo "$GREETING $HOSTNAME"; echo oops >&2; touch made')
    assert (out, err, code) == ("hi web\n", "oops\n", 0)
    # the pod's sandbox keeps what a command left; a non-zero exit comes back as its code
    out, _, _, code = run("sh", "-c", "ls; exit 7")
    assert (out, code) == ("made\n", 7)
    missing = json.loads(run("no-such-program-here")[2])
    assert missing["reason"] == "InternalError"
    assert 'exec: "no-such-program-here": executable file not found' in missing["message"]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
@pytest.mark.parametrize("version", ["1.30", "1.33"])
def test_kubectl_exec(emulator_factory: Factory, version: str) -> None:
    emu = emulator_factory(version)
    assert _kubectl(emu, "apply", "-f", "-", stdin=json.dumps(POD)).returncode == 0
    waited = _kubectl(emu, "wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    failed = _kubectl(emu, "exec", "web", "--", "sh", "-c", "echo $GREETING; echo e >&2; exit 3")
    assert (failed.returncode, failed.stdout) == (3, "hi\n")
    assert failed.stderr == "e\ncommand terminated with exit code 3\n"
    # stdin reaches the command and its end ends `cat` (v5 closes stdin alone)
    piped = _kubectl(emu, "exec", "-i", "web", "--", "cat", stdin="line one\nline two\n")
    assert (piped.returncode, piped.stdout) == (0, "line one\nline two\n")
    wrong = _kubectl(emu, "exec", "web", "-c", "sidecar", "--", "true")
    assert wrong.returncode == 1
    assert "container sidecar is not valid for pod web" in wrong.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_attach_follows_output_until_the_container_ends(
    emulator_factory: Factory,
) -> None:
    emu = emulator_factory("1.31", speed=1.0)
    body = json.loads(json.dumps(POD))
    body["metadata"]["annotations"] = {"kubespark.io/emulate-run-seconds": "3"}
    body["spec"]["restartPolicy"] = "Never"
    assert _kubectl(emu, "apply", "-f", "-", stdin=json.dumps(body)).returncode == 0
    _kubectl(emu, "wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
    started = time.monotonic()
    attached = _kubectl(emu, "attach", "web")
    assert attached.returncode == 0, attached.stderr
    assert time.monotonic() - started < 30


def test_python_client_port_forward(core: Core, emulator_factory: Factory) -> None:
    emu = emulator_factory("1.29", kubelet="process")
    api = core(emu)
    ip = _running(api, "web")
    ready = threading.Event()
    stop = threading.Event()
    port_box: list[int] = []

    async def serve() -> None:
        async with listening(ip) as port:
            port_box.append(port)
            ready.set()
            await asyncio.to_thread(stop.wait)

    server = threading.Thread(target=lambda: asyncio.run(serve()))
    server.start()
    try:
        assert ready.wait(10)
        port = port_box[0]
        forward = portforward(
            api.connect_get_namespaced_pod_portforward, "web", "default", ports=str(port)
        )
        sock = forward.socket(port)
        sock.settimeout(10)
        sock.sendall(b"GET /through/the/tunnel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        error = forward.error(port)
        _release_forward(forward)
        assert answer.startswith(b"HTTP/1.1 200")
        assert b'"path": "/through/the/tunnel"' in answer
        assert error is None
    finally:
        stop.set()
        server.join()


def test_port_forward_to_a_simulated_pod_is_refused(core: Core, emulator_factory: Factory) -> None:
    emu = emulator_factory("1.29")
    api = core(emu)
    _running(api, "web")
    forward = portforward(api.connect_get_namespaced_pod_portforward, "web", "default", ports="80")
    sock = forward.socket(80)
    sock.settimeout(10)
    assert sock.recv(10) == b""
    error = forward.error(80)
    _release_forward(forward)
    assert error is not None and "connect: connection refused" in error


def test_plain_http_and_spdy_are_refused_after_the_checks(
    core: Core, emulator_factory: Factory
) -> None:
    emu = emulator_factory("1.29")
    api = core(emu)
    _running(api, "web")
    base = f"{emu.url}/api/v1/namespaces/default/pods"
    with httpx.Client(timeout=10) as http:
        plain = http.post(f"{base}/web/exec?command=true")
        assert plain.status_code == 400 and plain.json()["message"] == "Upgrade request required"
        spdy = http.post(
            f"{base}/web/exec?command=true",
            headers={"Connection": "Upgrade", "Upgrade": "SPDY/3.1"},
        )
        assert spdy.status_code == 400 and "does not speak SPDY/3.1" in spdy.json()["message"]
        missing = http.post(f"{base}/nobody/exec?command=true")
        assert missing.status_code == 404
        no_command = http.post(f"{base}/web/exec")
        assert no_command.json()["message"] == "you must specify at least 1 command"
