"""exec, the proxy subresources and port-forward into a process kubelet pod.

An Apache Spark image pod whose command is Python's HTTP server (no JVM, so cheap): exec'd
commands run inside the pod's mount and UTS namespaces (its host name, its ConfigMap volume),
and the service proxy and port-forward reach the server on the pod's own address.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client, config
from kubernetes.stream import portforward, stream
from realspark_support import need_spark

from kubespark.emulator.testing import RunningEmulator

pytestmark = pytest.mark.realspark
NS = "/api/v1/namespaces/default"
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "ui", "labels": {"app": "ui"}},
    "spec": {
        "containers": [
            {
                "name": "main",
                "image": "apache/spark:3.5.1",
                "command": ["sh", "-c", 'exec python3 -m http.server 4040 --bind "$POD_IP"'],
                "env": [
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
                ],
                "volumeMounts": [{"name": "cfg", "mountPath": "/mnt/cfg"}],
            }
        ],
        "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}],
    },
}


@pytest.fixture
def core(emulator: RunningEmulator) -> Iterator[client.CoreV1Api]:
    api_client = config.new_client_from_config(str(emulator.kubeconfig_path))
    yield client.CoreV1Api(api_client)
    api_client.close()


@pytest.mark.emulator(version="1.29", kubelet="process")
def test_exec_proxy_and_port_forward_reach_the_pods_process(
    emulator: RunningEmulator, core: client.CoreV1Api
) -> None:
    need_spark("3.5.1")
    http = httpx.Client(base_url=emulator.url, timeout=30)
    cfg = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}}
    assert http.post(f"{NS}/configmaps", json=cfg).status_code == 201
    assert http.post(f"{NS}/pods", json=POD).status_code == 201
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ui"},
        "spec": {"selector": {"app": "ui"}, "ports": [{"name": "spark-ui", "port": 4040}]},
    }
    assert http.post(f"{NS}/services", json=svc).status_code == 201
    deadline = time.monotonic() + 60
    page = None
    while time.monotonic() < deadline:
        page = http.get(f"{NS}/services/ui:spark-ui/proxy/")
        if page.status_code == 200:
            break
        time.sleep(0.2)
    assert page is not None and page.status_code == 200, page.text if page else None
    assert f'href="{NS}/services/ui:spark-ui/proxy/' not in page.text  # relative links stay

    resp = stream(
        core.connect_get_namespaced_pod_exec,
        "ui",
        "default",
        command=["sh", "-c", "hostname; cat /mnt/cfg/k; echo; echo $POD_IP"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=30)
    out, code = resp.read_stdout(), resp.returncode
    resp.close()
    raw = getattr(resp.sock, "sock", None)
    if raw is not None:
        raw.close()
    pod_ip = core.read_namespaced_pod("ui", "default").status.pod_ip
    assert (out.split(), code) == (["ui", "v", pod_ip], 0)

    forward = portforward(
        core.connect_get_namespaced_pod_portforward, "ui", "default", ports="4040"
    )
    sock = forward.socket(4040)
    sock.settimeout(10)
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    forward.close()
    deadline = time.monotonic() + 10
    while forward.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    raw = getattr(forward.websocket, "sock", None)
    if raw is not None:
        raw.close()
    assert answer.startswith(b"HTTP/1.0 200")
    http.close()
