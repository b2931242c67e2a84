"""``kubespark ui`` with 10,000 applications: first page from the cache, beside a page per list.

    .venv/bin/python bench/bench_ui.py [--apps 10000] [--runs 20]

Fills an emulated 1.29 (``kubespark emulate``, its own process) with ``--apps`` SparkApplications
in a mix of states (status written as the operator writes it: a fifth failed with a reason, a
fifth waiting with ImagePullBackOff, the rest running or completed), then starts ``kubespark ui``
as its own process and reports:

- how long the dashboard takes to be ready (list and watch of every collection);
- the median wall time of the first page (``GET /api/apps``: the newest 50 of every
  application, with the counts per state), of a search, and of the 100th page, from its cache;
- the peer: the same first page computed the way a dashboard without a cache does, by listing
  the SparkApplications from the API server on every request and building the rows from the
  answer (in this process, with kubespark's own client, so only the listing differs);
- the dashboard process's resident memory (VmRSS, and the peak VmHWM) with the cache full.

Printed, with ratios; never asserted. Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from kubespark.kube.client import KubeClient
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.install import install_crds
from kubespark.submit import server_capabilities
from kubespark.submit.operator_apps import OperatorApp, ResourceKind
from kubespark.ui.rows import Filters, page_of
from kubespark.ui.rows import operator_row as row_of

API = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default/sparkapplications"


def _app(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": f"app-{i:05d}", "namespace": "default", "labels": {"team": "t"}},
        "spec": {
            "type": "Scala",
            "mode": "cluster",
            "image": "apache/spark:3.5.1",
            "sparkVersion": ("3.5.1", "3.4.4", "4.0.0")[i % 3],
            "mainClass": "org.apache.spark.examples.SparkPi",
            "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
            "driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark"},
            "executor": {"instances": 2, "cores": 1, "memory": "512m"},
        },
    }


def _status(i: int) -> dict[str, Any]:
    kind = i % 5
    if kind == 0:
        return {
            "applicationState": {
                "state": "FAILED",
                "errorMessage": "driver container failed with ExitCode: 1, Reason: Error",
            },
            "submissionAttempts": 1,
            "executionAttempts": 1,
        }
    if kind == 1:
        return {
            "applicationState": {"state": "SUBMITTED"},
            "waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"},
            "submissionAttempts": 1,
        }
    state = "RUNNING" if kind == 2 else "COMPLETED"
    return {
        "applicationState": {"state": state},
        "driverInfo": {"podName": f"app-{i:05d}-driver", "webUIServiceName": f"app-{i:05d}-ui"},
        "executorState": {f"app-{i:05d}-exec-1": state, f"app-{i:05d}-exec-2": state},
        "submissionAttempts": 1,
        "executionAttempts": 1,
    }


async def _fill(client: KubeClient, count: int) -> None:
    await install_crds(client, await server_capabilities(client))
    gate = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with gate:
            obj = await client.send(KubeRequest("POST", API, (), JSON, _app(i)))
            obj["status"] = _status(i)
            await client.send(
                KubeRequest("PUT", f"{API}/{obj['metadata']['name']}/status", (), JSON, obj)
            )

    await asyncio.gather(*(one(i) for i in range(count)))


async def _peer_page(client: KubeClient) -> int:
    """The first page without a cache: list every SparkApplication, build the rows, cut."""
    body = await client.send(KubeRequest("GET", API))
    rows = [
        row_of(OperatorApp(ResourceKind.APPLICATION, "default", i["metadata"]["name"], i))
        for i in body["items"]
    ]
    return len(page_of(rows, Filters()).rows)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _memory(pid: int) -> dict[str, int]:
    text = open(f"/proc/{pid}/status").read()  # noqa: PTH123, SIM115 (a /proc read)
    return {k: int(v) // 1024 for k, v in re.findall(r"(VmRSS|VmHWM):\s+(\d+) kB", text)}


async def _time(http: httpx.AsyncClient, path: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = await http.get(path)
        response.raise_for_status()
        samples.append(time.perf_counter() - start)
    return _median_ms(samples)


def _start_emulator(kubeconfig: Path) -> subprocess.Popen[str]:
    """``kubespark emulate`` in its own process: the fill and the dashboard get a core each."""
    command = [sys.executable, "-m", "kubespark", "emulate", "--k8s", "1.29"]
    command += ["--kubeconfig-out", str(kubeconfig)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("kubeconfig:"):
            return process
    raise SystemExit("kubespark emulate ended before it served")


async def main(count: int, runs: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    kubeconfig = workdir / "kubeconfig.yaml"
    emulator = await asyncio.to_thread(_start_emulator, kubeconfig)
    client = KubeClient.from_kubeconfig(str(kubeconfig))
    try:
        start = time.perf_counter()
        await _fill(client, count)
        print(f"filled {count} SparkApplications in {time.perf_counter() - start:.1f}s")
        command = [sys.executable, "-m", "kubespark", "ui", "--kubeconfig"]
        command += [str(kubeconfig), "--listen", "127.0.0.1:0"]
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, before the timing)
            command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        assert process.stdout is not None
        url = ""
        while not url:
            line = await asyncio.to_thread(process.stdout.readline)
            if not line:
                raise SystemExit("kubespark ui ended before it served")
            found = re.search(r"(http://\S+/)", line)
            url = found.group(1) if found else ""
        ready = time.perf_counter() - started
        try:
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                first = (await http.get("/api/apps")).json()
                assert first["all"] == count, first["all"]
                ms_first = await _time(http, "/api/apps", runs)
                ms_search = await _time(http, "/api/apps?q=imagepull", runs)
                ms_page = await _time(http, "/api/apps?page=100", runs)
                ms_app = await _time(
                    http, "/api/app?kind=SparkApplication&namespace=default&name=app-00007", runs
                )
            memory = _memory(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        peer = []
        for _ in range(max(3, runs // 4)):
            begin = time.perf_counter()
            await _peer_page(client)
            peer.append(time.perf_counter() - begin)
        ms_peer = _median_ms(peer)
        print(f"kubespark ui ready (cache listed and watching) {ready:.2f}s after start")
        print(f"first page from the cache         {ms_first:8.1f} ms (median of {runs})")
        print(f"search 'imagepull'                {ms_search:8.1f} ms")
        print(f"page 100                          {ms_page:8.1f} ms")
        print(f"one application's page            {ms_app:8.1f} ms")
        print(f"peer: list per request + rows     {ms_peer:8.1f} ms (median of {len(peer)})")
        print(f"ratio peer / cache (first page)   {ms_peer / ms_first:8.1f}x")
        print(f"dashboard RSS {memory['VmRSS']} MB (peak {memory['VmHWM']} MB) with {count} apps")
    finally:
        await client.aclose()
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.apps, args.runs))
