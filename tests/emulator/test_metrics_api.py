"""The metrics API (metrics.k8s.io/v1beta1): kubectl top, the answers, and the usage behind them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import Served, eventually, kubectl, needs_kubectl, phase, pod

from kubespark.apisurface.quantity import parse_quantity
from kubespark.emulator.apiserver.metrics import SYSTEM_RESERVE, cpu_quantity, memory_quantity
from kubespark.emulator.kubelet import usage
from kubespark.emulator.testing import RunningEmulator

METRICS = "/apis/metrics.k8s.io/v1beta1"


def _value(text: str) -> Decimal | None:
    parsed = parse_quantity(text)
    return parsed.value if parsed is not None else None


def with_requests(name: str, cpu: str, memory: str) -> dict[str, Any]:
    body = pod(name)
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu, "memory": memory}}
    return body


def millicores(text: str) -> int:
    return int(text.removesuffix("m"))


def mebibytes(text: str) -> int:
    return int(text.removesuffix("Mi"))


@needs_kubectl
def test_kubectl_top_pod_and_node(emulator: RunningEmulator, tmp_path: Path) -> None:
    created = with_requests("busy", "500m", "256Mi")
    kubectl(emulator, tmp_path, "create", "-f", "-", stdin=json.dumps(created))
    kubectl(emulator, tmp_path, "create", "-f", "-", stdin=json.dumps(pod("idle")))
    kubectl(emulator, tmp_path, "wait", "--for=condition=Ready", "pod/busy", "pod/idle")
    rows = kubectl(emulator, tmp_path, "top", "pod").stdout.splitlines()
    assert rows[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    by_name = {row.split()[0]: row.split()[1:] for row in rows[1:]}
    assert set(by_name) == {"busy", "idle"}
    # The model: 20-80% of the CPU request, 30-80% of the memory request; without requests,
    # of the scheduler's non-zero defaults (100m, 200Mi).
    assert 100 <= millicores(by_name["busy"][0]) < 400
    assert 76 <= mebibytes(by_name["busy"][1]) < 205
    assert 20 <= millicores(by_name["idle"][0]) < 80
    assert 60 <= mebibytes(by_name["idle"][1]) < 160
    nodes = kubectl(emulator, tmp_path, "top", "node").stdout.splitlines()
    header = [h.replace("(%)", "%") for h in nodes[0].split()]  # kubectl 1.32 writes CPU(%)
    assert header == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
    name, cpu, cpu_pct, memory, memory_pct = nodes[1].split()
    assert name == "emulated-node-1"
    pods_cpu = sum(millicores(v[0]) for v in by_name.values())
    reserve_cpu = SYSTEM_RESERVE.cpu_nanocores // 10**6
    assert pods_cpu + reserve_cpu - 2 <= millicores(cpu) <= pods_cpu + reserve_cpu + 2
    assert mebibytes(memory) >= SYSTEM_RESERVE.memory_bytes // 2**20
    assert cpu_pct.endswith("%") and memory_pct.endswith("%")  # of the node's 8 CPUs, 32Gi
    containers = kubectl(emulator, tmp_path, "top", "pod", "busy", "--containers").stdout
    assert containers.splitlines()[1].split()[:2] == ["busy", "main"]


async def test_usage_follows_the_documented_model(api: Served) -> None:
    _emu, client = api
    await client.post("/api/v1/namespaces/default/pods", json=with_requests("a", "2", "1Gi"))
    running = await eventually(
        client, "/api/v1/namespaces/default/pods/a", lambda r: phase(r) == "Running"
    )
    spec_container = running.json()["spec"]["containers"][0]
    expected = usage.modelled(running.json()["metadata"]["uid"], spec_container)
    got = (await client.get(f"{METRICS}/namespaces/default/pods/a")).json()
    assert got["kind"] == "PodMetrics" and got["apiVersion"] == "metrics.k8s.io/v1beta1"
    assert got["metadata"]["labels"] == {"app": "a"}
    [container] = got["containers"]
    assert container["name"] == "main"
    cpu = _value(container["usage"]["cpu"])
    memory = _value(container["usage"]["memory"])
    assert cpu is not None and cpu * 10**9 == expected.cpu_nanocores
    assert memory == expected.memory_bytes
    assert 0.2 * 2e9 <= expected.cpu_nanocores < 0.8 * 2e9
    assert 0.3 * 2**30 <= expected.memory_bytes < 0.8 * 2**30
    again = (await client.get(f"{METRICS}/namespaces/default/pods/a")).json()
    assert again["containers"] == got["containers"]  # deterministic


async def test_answers_as_metrics_server_gives_them(api: Served) -> None:
    _emu, client = api
    await client.post("/api/v1/namespaces/default/pods", json=pod("web"))
    await client.post(
        "/api/v1/namespaces/default/pods",
        json=pod("stuck", **{"kubespark.io/emulate-unschedulable": "true"}),
    )
    await eventually(client, "/api/v1/namespaces/default/pods/web", lambda r: phase(r) == "Running")
    groups = (await client.get("/apis")).json()["groups"]
    metrics_group = next(g for g in groups if g["name"] == "metrics.k8s.io")
    assert metrics_group["preferredVersion"]["groupVersion"] == "metrics.k8s.io/v1beta1"
    listed = (await client.get(METRICS)).json()["resources"]
    assert {(r["name"], r["kind"], r["namespaced"], tuple(r["verbs"])) for r in listed} == {
        ("pods", "PodMetrics", True, ("get", "list")),
        ("nodes", "NodeMetrics", False, ("get", "list")),
    }
    names = [i["metadata"]["name"] for i in (await client.get(f"{METRICS}/pods")).json()["items"]]
    assert names == ["web"]  # a pod that does not run has no metrics
    selected = await client.get(f"{METRICS}/namespaces/default/pods?labelSelector=app%3Dother")
    assert selected.json()["items"] == []
    stuck = await client.get(f"{METRICS}/namespaces/default/pods/stuck")
    assert stuck.status_code == 404
    assert stuck.json()["message"] == 'podmetrics.metrics.k8s.io "default/stuck" not found'
    absent = await client.get(f"{METRICS}/namespaces/default/pods/absent")
    assert absent.json()["message"] == 'pod "absent" not found'
    node = (await client.get(f"{METRICS}/nodes/emulated-node-1")).json()
    assert node["kind"] == "NodeMetrics" and set(node["usage"]) == {"cpu", "memory"}
    assert (await client.get(f"{METRICS}/pods?watch=1")).status_code == 405
    write = await client.post(f"{METRICS}/namespaces/default/pods", json={})
    assert write.status_code == 405


def test_a_process_group_is_measured_from_proc() -> None:
    # 64 MiB written (so resident), then a busy loop
    spin = (
        "import time\nx = b'x' * (64 << 20)\nend = time.time() + 3\nwhile time.time() < end: pass\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", spin], start_new_session=True)
    try:
        sampler = usage.GroupSampler()
        time.sleep(1.0)
        assert sampler.usage(proc.pid) is not None
        time.sleep(1.0)
        measured = sampler.usage(proc.pid)
        assert measured is not None
        assert measured.cpu_nanocores > 0.3e9  # a busy loop: near one core, on a loaded machine
        assert measured.memory_bytes > 64 << 20  # the bytes written are resident
        assert 0.9 < measured.window < 3.0
    finally:
        proc.kill()
        proc.wait()
    assert usage.GroupSampler().usage(proc.pid) is None  # the group is gone


@pytest.mark.parametrize(
    ("nanocores", "text"),
    [(123_456_789, "123456789n"), (1_500_000, "1500u"), (250_000_000, "250m"), (2 * 10**9, "2")],
)
def test_cpu_is_written_as_a_scaled_quantity_writes_it(nanocores: int, text: str) -> None:
    assert cpu_quantity(nanocores) == text


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [(1000, "1000"), (1536 * 1024, "1536Ki"), (3 * 2**20, "3Mi"), (2**31, "2Gi")],
)
def test_memory_is_written_as_a_binary_quantity_writes_it(nbytes: int, text: str) -> None:
    assert memory_quantity(nbytes) == text


@needs_kubectl
def test_kubectl_get_podmetrics_prints_metrics_servers_table(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    kubectl(
        emulator, tmp_path, "create", "-f", "-", stdin=json.dumps(with_requests("t", "1", "1Gi"))
    )
    kubectl(emulator, tmp_path, "wait", "--for=condition=Ready", "pod/t")
    rows = kubectl(emulator, tmp_path, "get", "podmetrics").stdout.splitlines()
    assert rows[0].split() == ["NAME", "CPU", "MEMORY", "WINDOW"]
    name, cpu, memory, window = rows[1].split()
    assert name == "t" and window == "30s"
    cpu_cores, memory_bytes = _value(cpu), _value(memory)
    assert cpu_cores is not None and Decimal("0.2") <= cpu_cores < Decimal("0.8")
    assert memory_bytes is not None and 0.3 * 2**30 <= memory_bytes < 0.8 * 2**30
    nodes = kubectl(emulator, tmp_path, "get", "nodemetrics").stdout.splitlines()
    assert nodes[1].split()[0] == "emulated-node-1"
