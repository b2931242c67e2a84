#!/usr/bin/env python3
"""1,000 SparkApplications created at once: how fast the operator submits and completes them.

Run: ``.venv/bin/python bench/bench_operator.py [--apps 1000] [--k8s 1.21] [--workers 64]``.

Three processes, as in a cluster: the emulated API server (``kubespark emulate``, simulated
kubelet and Spark drivers), ``kubespark operator`` (measured: CPU seconds and peak RSS from
/proc), and this client, which creates every application at once and follows them with a
watch. Printed: time until all are SUBMITTED and until all are COMPLETED, applications per
second, the operator's CPU and peak RSS, beside the published anchor of the kubeflow
spark-operator v2.1.0 (about 130 applications per minute on a 36-vCPU controller, from its
benchmark report) and the targets (>= 100 applications/s submitted, < 300 MB RSS). No
assertion: a benchmark reports; tests judge behaviour.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from kubespark.kube.client import KubeClient, RetryPolicy
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.install import install_crds
from kubespark.submit import server_capabilities

KUBEFLOW_APPS_PER_MINUTE = 130.0  # kubeflow spark-operator v2.1.0, 36 vCPU controller
SUBMIT_TARGET = 100.0  # applications/s on this 2-core machine
RSS_TARGET_MB = 300.0
PATH = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default/sparkapplications"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def application(name: str, spark: str) -> dict[str, Any]:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "type": "Scala",
            "mode": "cluster",
            "image": f"apache/spark:{spark}",
            "sparkVersion": spark,
            "mainClass": "org.apache.spark.examples.SparkPi",
            "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
            "executor": {"instances": 1},
        },
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_mb(pid: int) -> float:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def profiled(command: list[str], profile: str | None) -> list[str]:
    """``python -m kubespark ...`` as is, or under cProfile writing ``profile`` at exit.

    CPU time, not wall time: this machine's other processes must not count. The stats are
    dumped at exit, so the process must end by SIGTERM or SIGINT, not SIGKILL.
    """
    if not profile:
        return command
    boot = (
        "import atexit, cProfile, signal, sys, time; p = cProfile.Profile(time.process_time); "
        f"atexit.register(p.dump_stats, {profile!r}); sys.argv = sys.argv[1:]; "
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
        "from kubespark.cli.app import main; p.enable(); main()"
    )
    return [sys.executable, "-c", boot, *command[2:]]


def start_emulator(
    version: str, speed: float, workdir: Path, profile: str | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    kubeconfig = workdir / "kubeconfig"
    command = [
        sys.executable,
        "-m",
        "kubespark",
        "emulate",
        "--k8s",
        version,
        "--speed",
        str(speed),
    ]
    command = [*profiled(command, profile), "--kubeconfig-out", str(kubeconfig)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if kubeconfig.exists():
            return process, kubeconfig
        time.sleep(0.05)
    raise SystemExit("the emulator did not start")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def api_requests(port: int) -> Counter[tuple[str, str]]:
    """The operator's own count of the API requests its client sent, by verb and resource
    (/metrics)."""
    for _ in range(100):  # its HTTP server starts after discovery
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
                text = answer.read().decode()
                break
        except OSError:
            time.sleep(0.2)
    else:
        raise SystemExit(f"the operator serves no /metrics on port {port}")
    pattern = r'^kubespark_operator_api_request_count\{resource="([^"]*)",verb="(\w+)"\} (\S+)$'
    found = re.findall(pattern, text, re.M)
    return Counter({(verb, resource): int(float(n)) for resource, verb, n in found})


def start_operator(
    kubeconfig: Path, workers: int, log: Path, port: int, profile: str | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "kubespark", "operator", "--kubeconfig", str(kubeconfig)]
    command = profiled(command, profile)
    command += ["--standalone", "--metrics-port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


async def follow(
    client: KubeClient, names: set[str], times: dict[str, dict[str, float]], t0: float
) -> None:
    """Record when each application is first seen SUBMITTED (or later) and terminated."""
    listing = await client.send(KubeRequest("GET", PATH))
    version = listing["metadata"]["resourceVersion"]
    while True:
        request = KubeRequest("GET", PATH, (("watch", "true"), ("resourceVersion", version)))
        try:
            async for event in client.watch(request):
                obj = event.object
                version = obj.get("metadata", {}).get("resourceVersion", version)
                name = obj.get("metadata", {}).get("name")
                state = ((obj.get("status") or {}).get("applicationState") or {}).get("state", "")
                if name not in names or not state:
                    continue
                now = time.monotonic() - t0
                seen = times.setdefault(name, {})
                seen.setdefault("submitted", now)
                if state in ("COMPLETED", "FAILED"):
                    seen.setdefault("done", now)
                    seen["failed"] = float(state == "FAILED")
        except Exception:  # the watch was cut: resume from the last version seen
            await asyncio.sleep(0.05)


async def create_all(client: KubeClient, apps: list[dict[str, Any]], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(app: dict[str, Any]) -> None:
        async with gate:
            await client.send(KubeRequest("POST", PATH, (), JSON, app))

    await asyncio.gather(*(one(a) for a in apps))


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-operator-") as tmp:
        workdir = Path(tmp)
        emulator, kubeconfig = start_emulator(args.k8s, args.speed, workdir, args.profile_emulator)
        operator: subprocess.Popen[bytes] | None = None
        try:
            client = KubeClient.from_kubeconfig(str(kubeconfig), retry=RetryPolicy(attempts=8))
            async with client:
                await install_crds(client, await server_capabilities(client))
                port = free_port()
                operator = start_operator(
                    kubeconfig, args.workers, workdir / "operator.log", port, args.profile
                )
                await asyncio.sleep(args.warmup)  # discovery, kopf's first listing
                cpu_before = cpu_seconds(operator.pid)
                emulator_before = cpu_seconds(emulator.pid)
                requests_before = api_requests(port)
                names = [f"bench-{i:05d}" for i in range(args.apps)]
                times: dict[str, dict[str, float]] = {}
                t0 = time.monotonic()
                watcher = asyncio.create_task(follow(client, set(names), times, t0))
                await create_all(
                    client, [application(n, args.spark) for n in names], args.concurrency
                )
                created = time.monotonic() - t0
                deadline = time.monotonic() + args.timeout
                while time.monotonic() < deadline and len(finished(times)) < len(names):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)  # the watcher fills ``times``; poll it
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
                cpu = cpu_seconds(operator.pid) - cpu_before
                emulator_cpu = cpu_seconds(emulator.pid) - emulator_before
                rss = peak_rss_mb(operator.pid)
                emulator_rss = peak_rss_mb(emulator.pid)
                requests = await settled_requests(port) - requests_before
                reasons = await event_reasons(client)
            report(args, names, times, created, cpu, rss)
            per_app = emulator_cpu / len(names) * 1000
            print(
                f"  emulator CPU              {emulator_cpu:8.2f} s    ({per_app:.1f} ms per "
                "application)"
            )
            print(f"  emulator peak RSS         {emulator_rss:8.1f} MB")
            print(f"  load average at the end   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            report_requests(requests, len(names))
            per_reason = ", ".join(f"{r} {c / len(names):.2f}" for r, c in sorted(reasons.items()))
            print(f"  Events per application by reason: {per_reason}")
        finally:
            for process in (operator, emulator):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(90 if args.profile or args.profile_emulator else 20)
                    except subprocess.TimeoutExpired:
                        process.kill()


async def settled_requests(port: int, within: float = 60.0) -> Counter[tuple[str, str]]:
    """The request counts once they stop moving: Events and the last executor writes go out
    after the final state, and the operator moves its counts to /metrics each second."""
    deadline = time.monotonic() + within
    last = api_requests(port)
    while time.monotonic() < deadline:
        await asyncio.sleep(2.0)
        now = api_requests(port)
        if now == last:
            break
        last = now
    return last


async def event_reasons(client: KubeClient) -> Counter[str]:
    """The operator's Events about the applications, counted by reason (as the server holds
    them: a Counter of what was posted, not of what was recorded)."""
    listing = await client.send(KubeRequest("GET", "/api/v1/namespaces/default/events"))
    return Counter(
        str(e.get("reason"))
        for e in listing.get("items") or []
        if (e.get("involvedObject") or {}).get("kind") == "SparkApplication"
    )


def report_requests(requests: Counter[tuple[str, str]], n: int) -> None:
    """API requests per application over its lifecycle, by verb and by verb and resource
    (kubespark's client only: kopf's few long-lived watch streams are not per application)."""
    total = sum(requests.values())
    verbs: Counter[str] = Counter()
    for (verb, _), count in requests.items():
        verbs[verb] += count
    by_verb = ", ".join(f"{verb} {count / n:.2f}" for verb, count in sorted(verbs.items()))
    print(f"  API requests/application  {total / n:8.2f}     ({by_verb}; goal <= 8)")
    for (verb, resource), count in sorted(requests.items(), key=lambda kv: -kv[1]):
        if count / n >= 0.005:
            print(f"    {verb:6} {resource:32} {count / n:6.2f}")


def finished(times: dict[str, dict[str, float]]) -> list[str]:
    return [name for name, t in times.items() if "done" in t]


def report(
    args: argparse.Namespace,
    names: list[str],
    times: dict[str, dict[str, float]],
    created: float,
    cpu: float,
    rss: float,
) -> None:
    submitted = [t["submitted"] for t in times.values() if "submitted" in t]
    done = [t["done"] for t in times.values() if "done" in t]
    failed = sum(int(t.get("failed", 0)) for t in times.values())
    n = len(names)
    all_submitted = max(submitted) if len(submitted) == n else float("nan")
    all_done = max(done) if len(done) == n else float("nan")
    rate = n / all_submitted if submitted and len(submitted) == n else float("nan")
    kubeflow_rate = KUBEFLOW_APPS_PER_MINUTE / 60.0
    print(f"kubespark operator: {n} SparkApplications (Spark {args.spark}) on emulated {args.k8s}")
    print(f"  created all in            {created:8.2f} s")
    print(f"  all SUBMITTED after       {all_submitted:8.2f} s   ({len(submitted)}/{n})")
    terminated = f"({len(done)}/{n} terminated, {failed} FAILED)"
    print(f"  all COMPLETED after       {all_done:8.2f} s   {terminated}")
    if done:
        print(f"  first COMPLETED after     {min(done):8.2f} s")
    last_submit = max(submitted) if submitted else 0.0
    during = ", ".join(
        f"{sum(1 for d in done if d <= last_submit * q)} by {last_submit * q:.1f} s"
        for q in (0.25, 0.5, 0.75, 1.0)
    )
    print(f"  terminated while submitting: {during}")
    print(f"  submission rate           {rate:8.1f} applications/s")
    print(f"  operator CPU              {cpu:8.2f} s    ({cpu / n * 1000:.1f} ms per application)")
    print(f"  operator peak RSS         {rss:8.1f} MB")
    capacity = n / cpu if cpu else float("nan")
    print(f"  operator CPU-bound limit  {capacity:8.1f} applications/s per core (its CPU alone)")
    print("beside the anchor and the targets:")
    print(
        f"  kubeflow spark-operator v2.1.0: ~{KUBEFLOW_APPS_PER_MINUTE:.0f} applications/min on "
        f"36 vCPU = {kubeflow_rate:.2f}/s; kubespark on 2 cores: {rate / kubeflow_rate:.0f}x that"
    )
    ratio = rate / SUBMIT_TARGET
    print(f"  target >= {SUBMIT_TARGET:.0f} applications/s submitted: {ratio:.2f}x the target")
    print(f"  target < {RSS_TARGET_MB:.0f} MB RSS: {rss / RSS_TARGET_MB:.2f}x the limit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--k8s", default="1.21")
    parser.add_argument("--spark", default="3.5.1")
    parser.add_argument(
        "--speed", type=float, default=20.0, help="emulated time runs this much faster"
    )
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument(
        "--concurrency", type=int, default=32, help="concurrent creates of the client"
    )
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--profile", help="run the operator under cProfile, writing this file")
    parser.add_argument(
        "--profile-emulator", help="run the emulator under cProfile, writing this file"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
