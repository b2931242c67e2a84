#!/usr/bin/env python3
"""Measure the emulated API server: creates/s, gets/s, watch fan-out, memory per live object.

Run: ``.venv/bin/python bench/bench_emulator.py [--objects 10000]``. The server runs as
``kubespark emulate`` in its own process (one of the two cores); the client is a lean asyncio
HTTP/1.1 client with keep-alive connections, so the numbers are the server's, not a Python
client's. Targets (issue 4): >= 1,000 creates/s and 10,000 live objects in < 500 MB; each
number is printed with its ratio to the target. There is no peer to run side by side here (no
kube-apiserver or etcd can be installed on this machine); the ratio is to the target. No
assertion: a benchmark reports, tests judge behaviour.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CREATE_TARGET = 1_000.0
RSS_TARGET_MB = 500.0
CONNECTIONS = 8


class Connection:
    """One keep-alive HTTP/1.1 connection: request bytes out, status and body back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            f"\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        data = await self.reader.readexactly(length)
        return int(status_line.split()[1]), data

    def close(self) -> None:
        self.writer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else float("nan")


def configmap(i: int) -> bytes:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm-{i}", "labels": {"bench": "yes"}},
            "data": {"key": f"value-{i}", "other": "x" * 64},
        }
    ).encode()


def pod(i: int) -> bytes:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"pod-{i}", "labels": {"bench": "yes", "spark-role": "executor"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "spark-kubernetes-executor",
                        "image": "apache/spark:3.5.1",
                        "args": ["executor"],
                        "env": [{"name": "SPARK_EXECUTOR_ID", "value": str(i)}],
                        "resources": {
                            "requests": {"cpu": "1", "memory": "896Mi"},
                            "limits": {"memory": "896Mi"},
                        },
                    }
                ],
            },
        }
    ).encode()


async def run_many(port: int, requests: list[tuple[str, str, bytes]]) -> tuple[float, int]:
    """Send the requests over CONNECTIONS connections; (seconds, failures)."""
    conns = [await Connection.open(port) for _ in range(CONNECTIONS)]
    queue = list(reversed(requests))
    failures = 0

    async def worker(conn: Connection) -> None:
        nonlocal failures
        while queue:
            method, path, body = queue.pop()
            status, _ = await conn.request(method, path, body)
            if status >= 300:
                failures += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - start
    for conn in conns:
        conn.close()
    return elapsed, failures


async def watch_fanout(port: int, watchers: int, events: int) -> tuple[float, float]:
    """Open ``watchers`` watches, create ``events`` objects; (seconds until all saw all, ev/s)."""
    ns = f"/api/v1/namespaces/fan{watchers}"
    setup = await Connection.open(port)
    body = json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"fan{watchers}"}}
    ).encode()
    await setup.request("POST", "/api/v1/namespaces", body)
    streams = []
    for _ in range(watchers):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {ns}/configmaps?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        streams.append((reader, writer))

    async def consume(reader: asyncio.StreamReader) -> None:
        seen = 0
        while seen < events:
            size = int((await reader.readline()).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            seen += chunk.count(b'"type":"ADDED"')

    start = time.perf_counter()
    consumers = [asyncio.ensure_future(consume(r)) for r, _ in streams]
    for i in range(events):
        await setup.request("POST", f"{ns}/configmaps", configmap(i))
    await asyncio.gather(*consumers)
    elapsed = time.perf_counter() - start
    for _, writer in streams:
        writer.close()
    setup.close()
    return elapsed, watchers * events / elapsed


def start_server(port: int, version: str, workdir: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "kubespark"
    cmd = [
        str(exe),
        "emulate",
        "--k8s",
        version,
        "--port",
        str(port),
        "--speed",
        "1",
        "--kubeconfig-out",
        str(workdir / "kubeconfig"),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the emulator did not start")


def load() -> str:
    """The machine's load average: a shared machine's numbers mean little without it."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def line(
    label: str, value: float, unit: str, target: float | None = None, lower_is_better: bool = False
) -> None:
    text = f"  {label:<44} {value:>10,.0f} {unit}"
    if target:
        ratio = target / value if lower_is_better else value / target
        text += f"   ({ratio:.1f}x the target of {target:,.0f} {unit})"
    print(text)


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(port, args.k8s, Path(tmp))
        try:
            await measure(port, server.pid, args)
        finally:
            server.terminate()
            server.wait(timeout=10)


async def measure(port: int, pid: int, args: argparse.Namespace) -> None:
    print(
        f"kubespark emulate --k8s {args.k8s}: pid {pid}, {os.cpu_count()} cores, "
        f"{CONNECTIONS} client connections, load average {load()} at start"
    )
    baseline = rss_mb(pid)
    n = args.objects
    creates = [("POST", "/api/v1/namespaces/default/configmaps", configmap(i)) for i in range(n)]
    elapsed, failed = await run_many(port, creates)
    line(f"creates/s (ConfigMap, {n:,})", n / elapsed, "/s", CREATE_TARGET)
    rss_cm = rss_mb(pid)
    gets = [("GET", f"/api/v1/namespaces/default/configmaps/cm-{i % n}", b"") for i in range(n)]
    elapsed, failed_gets = await run_many(port, gets)
    line(f"gets/s (ConfigMap by name, {n:,})", n / elapsed, "/s")
    conn = await Connection.open(port)
    start = time.perf_counter()
    _, body = await conn.request("GET", "/api/v1/namespaces/default/configmaps")
    list_ms = (time.perf_counter() - start) * 1e3
    conn.close()
    line(f"list of {n:,} ConfigMaps ({len(body) / 1e6:.1f} MB)", list_ms, "ms")
    pods = [("POST", "/api/v1/namespaces/default/pods", pod(i)) for i in range(n)]
    elapsed, failed_pods = await run_many(port, pods)
    line(f"creates/s (Pod, {n:,}; kubelet runs them)", n / elapsed, "/s", CREATE_TARGET)
    await asyncio.sleep(5)
    rss_all = rss_mb(pid)
    print(
        f"  memory: {baseline:.0f} MB at start; {rss_cm:.0f} MB with {n:,} ConfigMaps "
        f"({(rss_cm - baseline) * 1024 / n:.1f} KB each)"
    )
    line(
        f"RSS with {n:,} ConfigMaps + {n:,} running Pods (+ events)",
        rss_all,
        "MB",
        RSS_TARGET_MB,
        lower_is_better=True,
    )
    for watchers in (1, 10, 100):
        seconds, rate = await watch_fanout(port, watchers, 200)
        line(f"watch fan-out: {watchers} watchers x 200 events", rate, "events/s")
        print(f"  {'':<44} all delivered in {seconds * 1e3:,.0f} ms")
    print(f"  load average {load()} at the end (1, 5, 15 min; {os.cpu_count()} cores)")
    if failed or failed_gets or failed_pods:
        print(f"  failures: creates {failed}, gets {failed_gets}, pods {failed_pods}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--k8s", default="1.21")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
