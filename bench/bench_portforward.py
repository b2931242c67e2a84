#!/usr/bin/env python3
"""Measure ``kubectl port-forward`` throughput through the emulator, beside a direct connection.

Run: ``.venv/bin/python bench/bench_portforward.py [--megabytes 32] [--rounds 3]``. Starts an
emulator with the process kubelet per version (in this process), a pod whose address serves
N megabytes to each connection (a byte server in a thread stands in for the pod's program),
and the real kubectl (the Cloud SDK dispatcher picks the release matching the server): 1.32
tunnels SPDY in a WebSocket, 1.29 upgrades to plain SPDY/3.1. The peer is a direct TCP
connection to the pod's address, the floor any relay is measured against. Printed: MB/s per
path (best of the rounds) and its ratio to direct. No assertion: a benchmark reports, tests
judge behaviour.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import threading
import time

import httpx

from kubespark.emulator.server import EmulatorOptions, EmulatorThread

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "bytes"},
    "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
}


def _pod_ip(url: str) -> str:
    with httpx.Client(base_url=url, timeout=10) as http:
        http.post("/api/v1/namespaces/default/pods", json=POD).raise_for_status()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = http.get("/api/v1/namespaces/default/pods/bytes").json().get("status", {})
            if status.get("phase") == "Running" and status.get("podIP"):
                return str(status["podIP"])
            time.sleep(0.05)
    raise SystemExit("the pod never ran")


def _serve_bytes(ip: str, size: int, stop: threading.Event) -> int:
    """A server on the pod's address sending ``size`` bytes to each connection; its port."""
    box: list[int] = []
    ready = threading.Event()
    block = b"x" * 65536

    async def send(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(send, ip, 0)
        box.append(server.sockets[0].getsockname()[1])
        ready.set()
        await asyncio.to_thread(stop.wait)
        server.close()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    ready.wait(10)
    return box[0]


def _download(host: str, port: int) -> tuple[int, float]:
    started = time.perf_counter()
    got = 0
    with socket.create_connection((host, port), timeout=60) as sock:
        while chunk := sock.recv(1 << 20):
            got += len(chunk)
    return got, time.perf_counter() - started


def _best(host: str, port: int, size: int, rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        got, seconds = _download(host, port)
        if got != size:
            raise SystemExit(f"{host}:{port} sent {got} bytes, not {size}")
        best = max(best, size / seconds / 1e6)
    return best


def _forwarded(kubectl: str, kubeconfig: str, port: int, size: int, rounds: int) -> float:
    cmd = [kubectl, "--kubeconfig", kubeconfig, "port-forward", "pod/bytes", f":{port}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        local = int(line.split("127.0.0.1:")[1].split()[0])
        return _best("127.0.0.1", local, size, rounds)
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is not on PATH")
    size = args.megabytes * (1 << 20)
    print(f"{args.megabytes} MiB per download, best of {args.rounds}")
    for version, path in (("1.32", "tunnelled SPDY (WebSocket)"), ("1.29", "plain SPDY/3.1")):
        runner = EmulatorThread(EmulatorOptions(version=version, kubelet="process", speed=50.0))
        emu = runner.start()
        stop = threading.Event()
        try:
            ip = _pod_ip(emu.url)
            port = _serve_bytes(ip, size, stop)
            direct = _best(ip, port, size, args.rounds)
            relayed = _forwarded(kubectl, str(emu.kubeconfig_path), port, size, args.rounds)
            print(f"{version} direct to the pod: {direct:.0f} MB/s")
            print(
                f"{version} kubectl port-forward, {path}: {relayed:.0f} MB/s "
                f"({relayed / direct:.3f}x direct, {direct / relayed:.0f}x slower)"
            )
        finally:
            stop.set()
            runner.stop()


if __name__ == "__main__":
    main()
