"""Wall time and CPU per submitted application: kubespark beside spark-submit and spark-on-k8s.

    .venv/bin/python bench/bench_submit.py [--k8s 1.29] [--apps 50] [--processes 5]

One run against one emulated API server (``kubespark emulate`` in its own process, so no client
shares a CPU or the GIL with the server), at a version where every client succeeds (1.29: Spark
3.5's server-side apply works from 1.21). The same SparkPi (Spark 3.5.1, 2 executors, 512m) is
submitted by:

- ``kubespark submit``, in-process (``kubespark.submit.flow.submit_and_follow`` with one client
  reused: what a long-running caller or the operator pays per application), and as a CLI process;
- ``spark-submit`` of pyspark 3.5.1 (a real JVM; cluster mode, ``waitAppCompletion=false`` as the
  kubeflow operator runs it), from the pyspark cache (installed there if missing); skipped with
  the reason printed when Java is absent;
- the ``spark-on-k8s`` package from PyPI (0.12.1 with the kubernetes client 36.0.3, installed
  into ``.cache/bench/`` on first use), through its Python API (``SparkOnK8S.submit_app``, which
  makes a client per call) and its CLI.

kubespark's CLI keeps discovery between runs as kubectl does (the first run discovers, the
next ones ask ``/version`` only); the in-process rows hold the server's surface, as a
long-running caller does, after the first application.

Every driver carries the emulator's ``kubespark.io/emulate-unschedulable`` annotation, so no
driver runs and the server does the same work for every client: the numbers are submission
alone. The objects column counts what one application left on the server (its driver pod and
what the pod owns): the tools do not write the same things. Wall time is measured around each
submission; CPU is the submitting process's (children
included for processes: the JVM under spark-submit's shell script). Printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from kubespark import sparkdist
from kubespark.apisurface import ApiSurface
from kubespark.kube.client import KubeClient
from kubespark.kube.discovery_cache import cached_surface
from kubespark.spark import load_application
from kubespark.spark.model import SparkApplication
from kubespark.submit.flow import Target, submit_and_follow
from kubespark.submit.submitted_apps import connect

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench"
SPARK = "3.5.1"
SPARK_ON_K8S = "0.12.1"
# kubernetes 37 validates request bodies with pydantic and rejects the V1PodTemplateSpec that
# spark-on-k8s 0.12.1 passes to create_namespaced_pod; 36.0.3 is the newest client it works with.
KUBERNETES_CLIENT = "36.0.3"
NAMESPACE = "spark-jobs"
PARKED = "kubespark.io/emulate-unschedulable"  # the driver stays Pending: submission only
IMAGE = f"apache/spark:{SPARK}"
JAR = f"local:///opt/spark/examples/jars/spark-examples_2.12-{SPARK}.jar"
MAIN = "org.apache.spark.examples.SparkPi"


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


@dataclass(frozen=True)
class Row:
    tool: str
    samples: tuple[Sample, ...]
    note: str = ""
    prefix: str = ""  # the tool's driver pods are named so: objects are counted by it

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)


# ---- the server ---------------------------------------------------------------------------------


class Server:
    """``kubespark emulate`` in a child process, with the namespace and service account."""

    def __init__(self, version: str, workdir: Path) -> None:
        self.kubeconfig = workdir / "kubeconfig"
        self.log = (workdir / "emulate.log").open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "kubespark"),
                "emulate",
                "--k8s",
                version,
                "--kubeconfig-out",
                str(self.kubeconfig),
                "-n",
                NAMESPACE,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(600):
            if self.kubeconfig.exists():
                break
            time.sleep(0.05)
        config = yaml.safe_load(self.kubeconfig.read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
        httpx.post(f"{self.url}/api/v1/namespaces/{NAMESPACE}/serviceaccounts", json=account)
        self.version = httpx.get(f"{self.url}/version").json()["gitVersion"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


# ---- kubespark ----------------------------------------------------------------------------------


def application(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "type": "Scala",
            "mode": "cluster",
            "image": IMAGE,
            "sparkVersion": SPARK,
            "mainClass": MAIN,
            "mainApplicationFile": JAR,
            "arguments": ["1000"],
            "driver": {
                "cores": 1,
                "memory": "512m",
                "serviceAccount": "spark",
                "annotations": {PARKED: "true"},
            },
            "executor": {"instances": 2, "cores": 1, "memory": "512m"},
        },
    }


def kubespark_in_process(server: Server, apps: int) -> tuple[Row, Row]:
    """The first submission (new client: discovery, cold caches) and the next ones."""
    # In hand, as the operator and API callers have it (the CLI row reads the YAML file).
    documents = [load_application(yaml.safe_dump(application(f"in-{i}"))) for i in range(apps + 1)]

    async def one(client: KubeClient, app: SparkApplication, surface: ApiSurface | None) -> Sample:
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = await submit_and_follow(
            app,
            Target(str(server.kubeconfig)),
            client=client,
            surface=surface,
        )
        sample = Sample(time.perf_counter() - wall, time.process_time() - cpu)
        if outcome.submission is None:
            raise RuntimeError(f"kubespark submit failed: {outcome.view()}")
        return sample

    async def run() -> list[Sample]:
        async with connect(str(server.kubeconfig), None) as client:
            first = await one(client, documents[0], None)  # discovers (nothing cached yet)
            surface = await cached_surface(client)  # held, as a long-running caller holds it
            return [first, *[await one(client, app, surface) for app in documents[1:]]]

    samples = asyncio.run(run())
    first = Row("kubespark, in-process: first app", (samples[0],), "new client, discovery", "in-")
    rest = Row("kubespark, in-process", tuple(samples[1:]), "one client, per application", "in-")
    return first, rest


def timed_process(command: Sequence[str], env: dict[str, str] | None = None) -> Sample:
    """Run a command to its end: wall time and the CPU of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(elapsed, cpu)


def kubespark_cli(server: Server, runs: int, workdir: Path) -> Row:
    exe = str(Path(sys.executable).parent / "kubespark")
    samples = []
    for i in range(runs):
        path = workdir / f"cli-{i}.yaml"
        path.write_text(yaml.safe_dump(application(f"cli-{i}")))
        samples.append(
            timed_process([exe, "submit", str(path), "--kubeconfig", str(server.kubeconfig)])
        )
    return Row(
        "kubespark submit, CLI process",
        tuple(samples),
        "start-up included; discovery cached",
        "cli-",
    )


# ---- spark-submit -------------------------------------------------------------------------------


def spark_submit(server: Server, runs: int) -> Row | str:
    java = sparkdist.java_home()
    if java is None:
        return "skipped: no Java (JAVA_HOME or java on PATH); spark-submit needs a JVM"
    exe = sparkdist.cached_spark_submit(SPARK)
    if exe is None:
        print(f"installing pyspark {SPARK} into .cache/pyspark (a few minutes) ...", flush=True)
        exe = sparkdist.install_pyspark(SPARK, log=CACHE / f"pip-pyspark-{SPARK}.log")
    confs = (
        f"spark.kubernetes.driver.annotation.{PARKED}=true",
        "spark.kubernetes.submission.waitAppCompletion=false",
    )
    samples = []
    for _ in range(runs):
        command = sparkdist.spark_pi_command(exe, server.url, SPARK, namespace=NAMESPACE)
        for conf in confs:
            command[-2:-2] = ["--conf", conf]
        env = sparkdist.spark_env(exe, server.kubeconfig, java)
        samples.append(timed_process(command, env))
    return Row(f"spark-submit (pyspark {SPARK}), JVM process", tuple(samples), prefix="spark-pi-")


# ---- spark-on-k8s -------------------------------------------------------------------------------


def spark_on_k8s_venv() -> Path:
    venv = CACHE / f"spark-on-k8s-{SPARK_ON_K8S}-kubernetes-{KUBERNETES_CLIENT}"
    done = venv / ".installed"
    if not done.exists():
        print(f"installing spark-on-k8s {SPARK_ON_K8S} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                "--disable-pip-version-check",
                f"spark-on-k8s=={SPARK_ON_K8S}",
                f"kubernetes=={KUBERNETES_CLIENT}",
            ],
            check=True,
            timeout=1800,
        )
        done.touch()
    return venv


# Runs inside spark-on-k8s's venv: N submissions through its Python API, one JSON line of samples.
API_LOOP = """
import json, sys, time
from spark_on_k8s.client import ExecutorInstances, PodResources, SparkOnK8S
from spark_on_k8s.k8s.sync_client import KubernetesClientManager
kubeconfig, namespace, image, jar, main, parked, apps = sys.argv[1:8]
spark = SparkOnK8S(k8s_client_manager=KubernetesClientManager(config_file=kubeconfig))
samples = []
for i in range(int(apps) + 1):
    wall, cpu = time.perf_counter(), time.process_time()
    spark.submit_app(
        image=image, app_path=jar, namespace=namespace, service_account="spark",
        app_name=f"sok-api-{i}", app_id_suffix=lambda i=i: f"-{i}", class_name=main,
        app_arguments=["1000"], app_waiter="no_wait",
        driver_resources=PodResources(cpu=1, memory=512, memory_overhead=384),
        executor_resources=PodResources(cpu=1, memory=512, memory_overhead=384),
        executor_instances=ExecutorInstances(initial=2),
        driver_annotations={parked: "true"},
    )
    samples.append([time.perf_counter() - wall, time.process_time() - cpu])
print(json.dumps(samples))
"""


def spark_on_k8s(server: Server, apps: int, runs: int) -> tuple[Row, Row]:
    venv = spark_on_k8s_venv()
    python = str(venv / "bin" / "python")
    answer = subprocess.run(
        [
            python,
            "-c",
            API_LOOP,
            str(server.kubeconfig),
            NAMESPACE,
            IMAGE,
            JAR,
            MAIN,
            PARKED,
            str(apps),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"spark-on-k8s failed:\n{answer.stderr[-3000:]}")
    samples = [Sample(w, c) for w, c in json.loads(answer.stdout.strip().splitlines()[-1])]
    api = Row(
        f"spark-on-k8s {SPARK_ON_K8S}, in-process",
        tuple(samples[1:]),
        "Python API, per app",
        "sok-api-",
    )
    env = {**os.environ, "KUBECONFIG": str(server.kubeconfig)}
    cli = []
    for i in range(runs):
        command = [
            str(venv / "bin" / "spark-on-k8s"), "app", "submit",
            "--image", IMAGE, "--path", JAR, "-n", NAMESPACE, "--service-account", "spark",
            "--name", f"sok-cli-{i}", "--class", MAIN,
            "--driver-cpu", "1", "--driver-memory", "512",
            "--executor-cpu", "1", "--executor-memory", "512",
            "--executor-initial-instances", "2", "--driver-annotation", f"{PARKED}=true",
            "1000",
        ]  # fmt: skip
        cli.append(timed_process(command, env))
    return api, Row(f"spark-on-k8s {SPARK_ON_K8S}, CLI process", tuple(cli), prefix="sok-cli-")


# ---- report -------------------------------------------------------------------------------------


def objects_per_app(server: Server) -> dict[str, float]:
    """Per driver-name prefix, the objects one application left: its pod and what the pod owns."""
    base = f"{server.url}/api/v1/namespaces/{NAMESPACE}"
    pods = httpx.get(f"{base}/pods", timeout=30).json()["items"]
    owned: dict[str, int] = {}
    for plural in ("services", "configmaps", "secrets"):
        for item in httpx.get(f"{base}/{plural}", timeout=30).json()["items"]:
            for owner in item["metadata"].get("ownerReferences") or []:
                owned[owner["uid"]] = owned.get(owner["uid"], 0) + 1
    counts: dict[str, list[int]] = {}
    for pod in pods:
        meta = pod["metadata"]
        if (meta.get("labels") or {}).get("spark-role", "driver") != "driver":
            continue
        prefix = next((p for p in PREFIXES if meta["name"].startswith(p)), None)
        if prefix is not None:
            counts.setdefault(prefix, []).append(1 + owned.get(meta["uid"], 0))
    return {p: statistics.mean(n) for p, n in counts.items()}


PREFIXES = ("in-", "cli-", "sok-api-", "sok-cli-", "spark-pi-")


def report(rows: list[Row], skipped: list[str], server: Server) -> None:
    objects = objects_per_app(server)
    print(f"\nper application, median; Kubernetes {server.version} (emulated) at {server.url}")
    print(f"{'':44} {'n':>4} {'wall ms':>10} {'CPU ms':>10} {'objects':>8}")
    for row in rows:
        print(
            f"{row.tool:44} {len(row.samples):>4} {row.wall * 1e3:>10.1f} "
            f"{row.cpu * 1e3:>10.1f} {objects.get(row.prefix, 0):>8.0f}  {row.note}"
        )
    for line in skipped:
        print(line)
    ours = {
        "kubespark in-process": next(r for r in rows if r.tool == "kubespark, in-process"),
        "kubespark CLI": next(r for r in rows if r.tool.startswith("kubespark submit, CLI")),
    }
    print("\nratios, theirs / kubespark's (above 1: kubespark takes less)")
    for row in rows:
        if row.tool.startswith("kubespark"):
            continue
        for label, mine in ours.items():
            print(
                f"  {row.tool:40} / {label:21} wall {row.wall / mine.wall:>8,.1f}x   "
                f"CPU {row.cpu / mine.cpu:>8,.1f}x"
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k8s", default="1.29")
    parser.add_argument("--apps", type=int, default=50, help="in-process submissions per tool")
    parser.add_argument("--processes", type=int, default=5, help="process runs per CLI")
    parser.add_argument("--spark-submit-runs", type=int, default=3)
    ns = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        # kubespark's discovery cache (as kubectl's): starts empty, kept out of the user's.
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "xdg-cache")
        server = Server(ns.k8s, Path(tmp))
        try:
            rows: list[Row] = []
            skipped: list[str] = []
            step: Callable[[], Any]
            for step in (
                lambda: kubespark_in_process(server, ns.apps),
                lambda: (kubespark_cli(server, ns.processes, Path(tmp)),),
                lambda: spark_on_k8s(server, ns.apps, ns.processes),
                lambda: (spark_submit(server, ns.spark_submit_runs),),
            ):
                for result in step():
                    if isinstance(result, str):
                        skipped.append(result)
                    else:
                        rows.append(result)
                        print(f"{result.tool}: {result.wall * 1e3:.1f} ms", flush=True)
            report(rows, skipped, server)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
