"""exec, attach and port-forward over WebSocket, with kubectl and the official Python client.

kubectl (1.30+ streams exec over WebSocket v5) and ``kubernetes.stream`` (v5/v4 exec, v4
port-forward) talk to the emulator unmodified. Simulated pods run an exec'd command as a local
process in a sandbox directory of their own; port-forward reaches what listens on a process
kubelet pod's address (a real HTTP server stands in for the pod's program).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from emu_helpers import listening, running_pod
from kubernetes import client
from kubernetes.stream import portforward, stream

from kubespark.emulator.apiserver import spdy
from kubespark.emulator.testing import RunningEmulator

KUBECTL = shutil.which("kubectl")
# The kubectl on PATH may be Google Cloud SDK's dispatcher, which runs the release matching the
# server's version; a newer one against an older server is what exercises kubectl's fallbacks.
NEW_KUBECTL = (
    Path(os.path.realpath(KUBECTL)).parent / "kubectl.1.32" if KUBECTL is not None else None
)
if NEW_KUBECTL is not None and not NEW_KUBECTL.exists():
    NEW_KUBECTL = None
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
    running_pod(api, POD)

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
@pytest.mark.parametrize(
    ("version", "tls"), [("1.27", False), ("1.29", True), ("1.30", False), ("1.33", True)]
)
def test_kubectl_exec(emulator_factory: Factory, version: str, tls: bool) -> None:
    """SPDY/3.1 before 1.30, WebSocket v5 after, each in the clear and over TLS."""
    emu = emulator_factory(version, tls=tls)
    assert _kubectl(emu, "apply", "-f", "-", stdin=json.dumps(POD)).returncode == 0
    waited = _kubectl(emu, "wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    failed = _kubectl(emu, "exec", "web", "--", "sh", "-c", "echo $GREETING; echo e >&2; exit 3")
    assert (failed.returncode, failed.stdout) == (3, "hi\n")
    assert failed.stderr == "e\ncommand terminated with exit code 3\n"
    # stdin reaches the command and its end ends `cat` (v5 closes stdin alone, SPDY by a FIN)
    piped = _kubectl(emu, "exec", "-i", "web", "--", "cat", stdin="line one\nline two\n")
    assert (piped.returncode, piped.stdout) == (0, "line one\nline two\n")
    wrong = _kubectl(emu, "exec", "web", "-c", "sidecar", "--", "true")
    assert wrong.returncode == 1
    assert "container sidecar is not valid for pod web" in wrong.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
@pytest.mark.parametrize("version", ["1.31", "1.29"])
def test_kubectl_attach_follows_output_until_the_container_ends(
    emulator_factory: Factory, version: str
) -> None:
    emu = emulator_factory(version, speed=1.0)
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
    ip = running_pod(api, POD)
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
    running_pod(api, POD)
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
    running_pod(api, POD)
    base = f"{emu.url}/api/v1/namespaces/default/pods"
    with httpx.Client(timeout=10) as http:
        plain = http.post(f"{base}/web/exec?command=true")
        assert plain.status_code == 400 and plain.json()["message"] == "Upgrade request required"
        spdy = http.post(
            f"{base}/web/exec?command=true",
            headers={"Connection": "Upgrade", "Upgrade": "SPDY/3.1"},
        )
        assert spdy.status_code == 400
        assert spdy.json()["message"] == (
            "unable to upgrade: unable to negotiate protocol: client supports [], server "
            "supports [v4.channel.k8s.io]"
        )
        missing = http.post(f"{base}/nobody/exec?command=true")
        assert missing.status_code == 404
        no_command = http.post(f"{base}/web/exec")
        assert no_command.json()["message"] == "you must specify at least 1 command"


def _serving_pod(api: client.CoreV1Api, stop: threading.Event) -> tuple[threading.Thread, int]:
    """A process-kubelet pod with an HTTP server on its address; (thread, port)."""
    ip = running_pod(api, POD)
    ready = threading.Event()
    port_box: list[int] = []

    async def serve() -> None:
        async with listening(ip) as port:
            port_box.append(port)
            ready.set()
            await asyncio.to_thread(stop.wait)

    server = threading.Thread(target=lambda: asyncio.run(serve()))
    server.start()
    assert ready.wait(10)
    return server, port_box[0]


def _kubectl_forward(
    emu: RunningEmulator, target: str, kubectl: str | None = KUBECTL
) -> tuple[subprocess.Popen[str], int]:
    """``kubectl port-forward`` on a local port it picks; (process, local port)."""
    assert kubectl is not None
    cmd = [kubectl, "--kubeconfig", str(emu.kubeconfig_path), "port-forward", "pod/web", target]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Forwarding from 127.0.0.1:NNNN -> PORT"
    if not line.startswith("Forwarding from 127.0.0.1:"):
        proc.kill()
        _, err = proc.communicate(timeout=20)
        raise AssertionError(f"kubectl port-forward did not start: {line!r} {err}")
    return proc, int(line.split(":")[1].split()[0])


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    return err


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
@pytest.mark.parametrize("version", ["1.32", "1.31", "1.30", "1.29"])
def test_kubectl_port_forward_over_spdy(
    core: Core, emulator_factory: Factory, version: str
) -> None:
    """kubectl 1.31+ (the version the dispatcher picks for the server) tunnels SPDY in a
    WebSocket, older ones upgrade to plain SPDY/3.1; several requests, each its own stream
    pair, one larger than a SPDY window."""
    emu = emulator_factory(version, kubelet="process")
    stop = threading.Event()
    server, port = _serving_pod(core(emu), stop)
    proc: subprocess.Popen[str] | None = None
    try:
        proc, local = _kubectl_forward(emu, f":{port}")
        with httpx.Client(timeout=10) as http:
            for path in ("/through/spdy", "/again"):
                got = http.get(f"http://127.0.0.1:{local}{path}", headers={"Connection": "close"})
                assert got.status_code == 200 and got.json()["path"] == path
            big = http.post(f"http://127.0.0.1:{local}/upload", content=b"x" * 300_000)
            assert big.status_code == 200 and len(big.json()["body"]) == 300_000
        err = _stop(proc)
        assert "error" not in err.lower(), err
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        stop.set()
        server.join()


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_port_forward_to_a_simulated_pod_reports_the_refusal(
    core: Core, emulator_factory: Factory
) -> None:
    emu = emulator_factory("1.32")
    running_pod(core(emu), POD)
    proc, local = _kubectl_forward(emu, ":80")
    try:
        with httpx.Client(timeout=10) as http, pytest.raises(httpx.HTTPError):
            http.get(f"http://127.0.0.1:{local}/")
    finally:
        err = _stop(proc)
    assert "connect: connection refused" in err


@pytest.mark.skipif(NEW_KUBECTL is None, reason="kubectl 1.32 is not installed")
def test_new_kubectl_falls_back_to_spdy_against_an_old_server(
    core: Core, emulator_factory: Factory
) -> None:
    """1.29 refuses exec's v5 and port-forward's tunnel, as a real one: kubectl 1.32 falls back
    to plain SPDY/3.1 for both."""
    emu = emulator_factory("1.29", kubelet="process")
    stop = threading.Event()
    server, port = _serving_pod(core(emu), stop)
    proc: subprocess.Popen[str] | None = None
    try:
        kubectl = [str(NEW_KUBECTL), "--kubeconfig", str(emu.kubeconfig_path)]
        piped = subprocess.run(
            [*kubectl, "exec", "-i", "web", "--", "sh", "-c", "cat; exit 4"],
            input="through SPDY\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (piped.returncode, piped.stdout) == (4, "through SPDY\n"), piped.stderr
        proc, local = _kubectl_forward(emu, f":{port}", str(NEW_KUBECTL))
        got = httpx.get(f"http://127.0.0.1:{local}/fallback", timeout=10)
        assert got.json()["path"] == "/fallback"
    finally:
        if proc is not None:
            _stop(proc)
        stop.set()
        server.join()


def test_a_spdy_upgrade_then_garbage_ends_with_goaway(
    core: Core, emulator_factory: Factory
) -> None:
    """Bad bytes after a plain SPDY upgrade: a GOAWAY (PROTOCOL_ERROR), then the connection
    closes; the server keeps serving."""
    emu = emulator_factory("1.29")
    running_pod(core(emu), POD)
    host, port = emu.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/namespaces/default/pods/web/portforward HTTP/1.1\r\nHost: x\r\n"
            b"Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
            b"X-Stream-Protocol-Version: portforward.k8s.io\r\nContent-Length: 0\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101 ")
        assert b"X-Stream-Protocol-Version: portforward.k8s.io" in head
        sock.sendall(bytes.fromhex("80020006 00000004 00000001"))  # a SPDY/2 PING
        rest = head.split(b"\r\n\r\n", 1)[1]
        while chunk := sock.recv(4096):
            rest += chunk
    assert spdy.Codec().feed(rest) == [spdy.GoAway(0, 1)]
    assert httpx.get(f"{emu.url}/version", timeout=10).status_code == 200
