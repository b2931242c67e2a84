#!/usr/bin/env python3
"""Measure the latency the proxy adds per request on loopback, beside ``kubectl proxy``.

Run: ``.venv/bin/python bench/bench_proxy.py [--requests 3000]``. Starts ``kubespark emulate``
(the upstream), ``kubespark proxy`` (plain HTTP and TLS) and, when kubectl is installed,
``kubectl proxy`` (the peer: client-go's reverse proxy), each in its own process as deployed.
One client with a kept-alive connection per path sends the same requests in interleaved rounds
(so drift hits every path alike): GETs of one object, and spark-submit's driver Service apply,
which the proxy rewrites for Kubernetes 1.19 into an apply without what 1.19 cannot type (dry
run, so it can repeat), beside that same apply sent directly.
Printed: p50 and p99 per path, the latency added over the direct path, and the ratio to the
target (< 2 ms added at p50). No assertion: a benchmark reports, tests judge behaviour.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TARGET_ADDED_P50_MS = 2.0
KUBESPARK = [sys.executable, "-m", "kubespark"]
ROUNDS = 10


@dataclass
class Route:
    name: str
    host: str
    port: int
    tls: ssl.SSLContext | None = None
    token: str | None = None

    def connect(self) -> http.client.HTTPConnection:
        if self.tls is not None:
            return http.client.HTTPSConnection(self.host, self.port, context=self.tls, timeout=30)
        return http.client.HTTPConnection(self.host, self.port, timeout=30)


@contextmanager
def process(args: list[str], ready: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start a server process; yield the first line matching ``ready`` (its address)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "300", **(env or {})}
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=full_env
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if match := re.search(ready, line):
                yield match.group(1)
                break
            if not line and proc.poll() is not None:
                raise RuntimeError(f"{args[0]} exited: {proc.returncode}")
        else:
            raise RuntimeError(f"{' '.join(args)} did not start")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(
    conn: http.client.HTTPConnection,
    method: str,
    target: str,
    body: bytes | None,
    headers: dict[str, str],
) -> float:
    started = time.perf_counter()
    conn.request(method, target, body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    took = time.perf_counter() - started
    if answer.status >= 400:
        raise RuntimeError(f"{method} {target} -> {answer.status}")
    return took * 1000


def measure(
    paths: list[Route], call: Callable[[http.client.HTTPConnection, Route], float], n: int
) -> dict[str, list[float]]:
    conns = {p.name: p.connect() for p in paths}
    times: dict[str, list[float]] = {p.name: [] for p in paths}
    for p in paths:  # warm-up: connections, caches, the proxy's first decision
        for _ in range(50):
            call(conns[p.name], p)
    per_round = max(1, n // ROUNDS)
    for _ in range(ROUNDS):
        for p in paths:
            times[p.name].extend(call(conns[p.name], p) for _ in range(per_round))
    for conn in conns.values():
        conn.close()
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(title: str, times: dict[str, list[float]], direct: str = "direct") -> None:
    base50, base99 = statistics.median(times[direct]), pct(times[direct], 0.99)
    print(f"\n{title}")
    columns = ("p50 ms", "p99 ms", "added p50", "added p99", "vs target")
    widths = (9, 9, 11, 11, 11)
    print(f"  {'path':<28}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for name, values in times.items():
        p50, p99 = statistics.median(values), pct(values, 0.99)
        added = p50 - base50
        ratio = "" if name == direct else f"{added / TARGET_ADDED_P50_MS:>10.2f}x"
        extra = "" if name == direct else f"{added:>11.3f}{p99 - base99:>11.3f}"
        print(f"  {name:<28}{p50:>9.3f}{p99:>9.3f}{extra:<22}{ratio}")


def proxy_args(kubeconfig: Path, *flags: str) -> list[str]:
    return [
        *KUBESPARK,
        "proxy",
        "--upstream-kubeconfig",
        str(kubeconfig),
        "--listen",
        "127.0.0.1:0",
        "--log-level",
        "warning",
        *flags,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per path and kind")
    parser.add_argument("--k8s", default="1.19")
    ns = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kubespark-bench-proxy-"))
    emulated = work / "emulator.yaml"
    emulate = [*KUBESPARK, "emulate", "--k8s", ns.k8s, "--kubeconfig-out", str(emulated)]
    with (
        process(emulate, r"at (http://\S+)") as emu_url,
        process(proxy_args(emulated, "--plain-http"), r"proxy: (http://\S+)") as plain_url,
        process(
            proxy_args(emulated, "--tls-dir", str(work / "pki")), r"proxy: (https://\S+)"
        ) as tls_url,
        peer(emulated) as kubectl_url,
    ):
        tls = ssl.create_default_context(cafile=str(work / "pki" / "ca.crt"))
        routes = [address("direct", emu_url), address("kubespark proxy", plain_url)]
        routes.append(address("kubespark proxy (TLS)", tls_url, tls))
        if kubectl_url:
            routes.append(address("kubectl proxy (peer)", kubectl_url))
        run_all(routes, ns.requests, ns.k8s)
    shutil.rmtree(work, ignore_errors=True)


@contextmanager
def peer(kubeconfig: Path) -> Iterator[str | None]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        yield None
        return
    with process(
        [kubectl, "--kubeconfig", str(kubeconfig), "proxy", "--port", "0"],
        r"Starting to serve on (\S+)",
    ) as address_:
        yield f"http://{address_}"


def address(name: str, url: str, tls: ssl.SSLContext | None = None) -> Route:
    host_port = url.split("://", 1)[1]
    host, port = host_port.rsplit(":", 1)
    return Route(name, host, int(port), tls)


CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "bench"},
    "data": {"k": "v"},
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "bench-driver-svc"},
    "spec": {
        "clusterIP": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": [{"name": "driver-rpc-port", "port": 7078, "targetPort": 7078}],
        "selector": {"spark-role": "driver"},
    },
}


def run_all(paths: list[Route], n: int, k8s: str) -> None:
    ns_path = "/api/v1/namespaces/default"
    setup = paths[0].connect()
    body = json.dumps(CONFIGMAP).encode()
    request(setup, "POST", f"{ns_path}/configmaps", body, {"Content-Type": "application/json"})
    setup.close()

    def get(conn: http.client.HTTPConnection, _: Route) -> float:
        return request(
            conn, "GET", f"{ns_path}/configmaps/bench", None, {"Accept": "application/json"}
        )

    print(f"kubespark proxy: added latency per request, Kubernetes {k8s} emulated, loopback")
    print(f"{n} requests per path and kind, {ROUNDS} interleaved rounds, one kept-alive connection")
    report("GET one ConfigMap", measure(paths, get, n))

    apply_headers = {"Content-Type": "application/apply-patch+yaml"}
    service = json.dumps(SERVICE).encode()

    def rewritten(conn: http.client.HTTPConnection, p: Route) -> float:
        target = f"{ns_path}/services/bench-driver-svc?fieldManager=fabric8&force=true&dryRun=All"
        return request(conn, "PATCH", target, service, apply_headers)

    proxies = [p for p in paths if p.name.startswith("kubespark")]
    sent = dict(SERVICE, spec={k: v for k, v in SERVICE["spec"].items() if "ipFamil" not in k})
    sent["spec"] = dict(
        sent["spec"], ports=[dict(p, protocol="TCP") for p in SERVICE["spec"]["ports"]]
    )
    what_the_proxy_sends = json.dumps(sent).encode()

    def direct_apply(conn: http.client.HTTPConnection, _: Route) -> float:
        # What the rewrite sends, sent directly: the baseline of a rewritten apply.
        target = f"{ns_path}/services/bench-driver-svc?fieldManager=fabric8&force=true&dryRun=All"
        return request(conn, "PATCH", target, what_the_proxy_sends, apply_headers)

    times = measure([paths[0]], direct_apply, n // 3)
    times.update(measure(proxies, rewritten, n // 3))
    report(
        "spark-submit's driver Service apply on 1.19, rewritten (dry run); direct = the apply "
        "the proxy sends instead",
        times,
    )


if __name__ == "__main__":
    main()
