"""Real clients through the proxy to the emulated API server: kubectl 1.32 (get, watch, logs,
server-side apply) and the official Python client (list, watch)."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config, watch

from kubespark.emulator.testing import RunningEmulator
from kubespark.proxy import Proxy, ProxyOptions, ProxyThread

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv4]
  ports: [{name: http, port: 80}]
  selector: {app: web}
"""


@pytest.fixture
def proxy(emulator: RunningEmulator, tmp_path: Path) -> Iterator[Proxy]:
    options = ProxyOptions(
        upstream_kubeconfig=emulator.kubeconfig_path,
        listen="127.0.0.1:0",
        kubeconfig_out=tmp_path / "proxy.yaml",
        tls_dir=tmp_path / "pki",
    )
    with ProxyThread.running(options) as running:
        yield running


def kubectl(proxy: Proxy, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert proxy.kubeconfig_path is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(proxy.kubeconfig_path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """Lines a running process prints, as they come."""
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            out.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return out


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=10)


def next_line(lines: queue.Queue[str], containing: str, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if containing in line:
            return line
    raise AssertionError(f"no line with {containing!r} within {seconds} s")


def test_kubectl_get_through_the_proxy(proxy: Proxy, emulator: RunningEmulator) -> None:
    version = yaml.safe_load(ok(kubectl(proxy, "version", "-o", "yaml")))
    assert version["serverVersion"]["gitVersion"] == emulator.version
    names = ok(kubectl(proxy, "get", "namespaces", "-o", "name")).split()
    assert "namespace/default" in names and "namespace/kube-system" in names


def test_kubectl_watch_streams_changes_as_they_happen(proxy: Proxy) -> None:
    watcher = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            str(proxy.kubeconfig_path),
            "get",
            "configmaps",
            "-w",
            "--output-watch-events",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = lines_of(watcher)
        time.sleep(1.0)  # the watch is open before the change
        for name in ("first", "second"):
            manifest = (
                f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: b}}\n"
            )
            ok(kubectl(proxy, "apply", "-f", "-", stdin=manifest))
            assert next_line(lines, f" {name} ").split()[0] == "ADDED"
        assert watcher.poll() is None  # still watching: the stream stayed open through the proxy
    finally:
        stop(watcher)


def test_kubectl_logs_and_follow(proxy: Proxy, emulator: RunningEmulator) -> None:
    pod = """\
apiVersion: v1
kind: Pod
metadata:
  name: talker
  annotations: {kubespark.io/emulate-log: "line one\\nline two"}
spec:
  serviceAccountName: default
  containers: [{name: main, image: busybox:1.36}]
"""
    ok(kubectl(proxy, "apply", "-f", "-", stdin=pod))
    ok(kubectl(proxy, "wait", "--for=condition=Ready", "pod/talker", "--timeout=30s"))
    assert ok(kubectl(proxy, "logs", "talker")).splitlines()[-2:] == ["line one", "line two"]
    follower = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(proxy.kubeconfig_path), "logs", "-f", "talker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = lines_of(follower)
        next_line(lines, "line two")
        kubelet = emulator.emulator.kubelet
        assert kubelet is not None
        emulator.run(lambda: kubelet.append_log(("default", "talker"), "main", "line three"))
        next_line(lines, "line three")  # arrives while `logs -f` is still following
        assert follower.poll() is None
    finally:
        stop(follower)


@pytest.mark.emulator(version="1.19")
def test_kubectl_server_side_apply_on_119_is_rewritten(proxy: Proxy) -> None:
    # --validate=false: kubectl 1.32 checks the manifest against the 1.19 server's OpenAPI
    # before sending anything, and the point here is what happens to what it sends.
    result = kubectl(proxy, "apply", "--server-side", "--validate=false", "-f", "-", stdin=SERVICE)
    assert result.returncode == 0, result.stderr
    assert "service/web serverside-applied" in result.stdout
    assert "Warning: kubespark proxy: server 1.19" in result.stderr
    assert "applied the Service without spec.ipFamilies (added in 1.20)" in result.stderr
    shown = kubectl(proxy, "get", "service", "web", "-o", "yaml", "--show-managed-fields")
    stored = yaml.safe_load(ok(shown))
    assert stored["spec"]["ports"] == [
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}
    ]
    assert "ipFamilies" not in stored["spec"]
    owners = [(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]]
    assert owners == [("kubectl", "Apply")]  # owned as the apply would have left it
    # Applied again, changed, without --force-conflicts: no conflict with itself, as on 1.21.
    changed = SERVICE.replace("port: 80", "port: 8080").replace("app: web", "app: web2")
    again = kubectl(proxy, "apply", "--server-side", "--validate=false", "-f", "-", stdin=changed)
    assert again.returncode == 0, again.stderr
    assert "service/web serverside-applied" in again.stdout
    updated = yaml.safe_load(ok(kubectl(proxy, "get", "service", "web", "-o", "yaml")))
    assert updated["spec"]["selector"] == {"app": "web2"}
    assert [p["port"] for p in updated["spec"]["ports"]] == [8080]
    assert updated["metadata"]["uid"] == stored["metadata"]["uid"]


@pytest.mark.emulator(version="1.19")
def test_kubectl_apply_that_would_lose_a_setting_is_refused(proxy: Proxy) -> None:
    lossy = SERVICE.replace("SingleStack", "RequireDualStack")
    result = kubectl(proxy, "apply", "--server-side", "--validate=false", "-f", "-", stdin=lossy)
    assert result.returncode == 1
    assert 'The Service "web" is invalid: spec.ipFamilyPolicy:' in result.stderr
    assert 'will not drop "RequireDualStack"' in result.stderr
    assert "upgrade the cluster to Kubernetes 1.20" in result.stderr
    assert kubectl(proxy, "get", "service", "web").returncode == 1  # nothing was written


def test_the_official_python_client_lists_and_watches(proxy: Proxy) -> None:
    assert proxy.kubeconfig_path is not None
    api = config.new_client_from_config(config_file=str(proxy.kubeconfig_path))
    try:
        core = client.CoreV1Api(api)
        listing = core.list_namespace()
        assert "default" in [n.metadata.name for n in listing.items]
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="from-python"), data={"k": "v"})
        core.create_namespaced_config_map("default", body)
        seen = []
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, "default", timeout_seconds=5
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if event["object"].metadata.name == "from-python":
                break
        assert ("ADDED", "from-python") in seen
    finally:
        api.close()


def test_kubectl_port_forward_through_the_proxy(proxy: Proxy) -> None:
    """kubectl's SPDY (plain or tunnelled, by release) relayed by the proxy to the emulator,
    whose simulated pod refuses the connection: the refusal comes back on the error stream."""
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
    ok(kubectl(proxy, "apply", "-f", "-", stdin=pod + "  - {name: main, image: busybox:1.36}\n"))
    ok(kubectl(proxy, "wait", "--for=condition=Ready", "pod/web", "--timeout=30s"))
    assert proxy.kubeconfig_path is not None
    forward = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(proxy.kubeconfig_path), "port-forward", "pod/web", ":80"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert forward.stdout is not None
        line = forward.stdout.readline()
        assert line.startswith("Forwarding from 127.0.0.1:"), line
        local = int(line.split("127.0.0.1:")[1].split()[0])
        with socket.create_connection(("127.0.0.1", local), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(100) == b""
    finally:
        forward.terminate()
        _, err = forward.communicate(timeout=20)
    assert "connect: connection refused" in err
