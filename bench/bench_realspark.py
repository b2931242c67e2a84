"""A real Spark job end to end on the process kubelet: time to COMPLETED, peak RSS per pod.

    .venv/bin/python bench/bench_realspark.py [--k8s 1.21] [--spark 3.5.1]

One emulated cluster (``kubelet="process"``, in this process's background thread) runs the same
PySpark job (tests/realspark/jobs/squares.py: the sum of squares of 1..100000 on 4 partitions,
a driver and 2 executors, 512m each) twice:

- submitted by ``kubespark submit --wait`` (a CLI process), the job in a ConfigMap;
- submitted by the real ``spark-submit`` of that release in cluster mode
  (``waitAppCompletion=true``), the job in a hostPath volume; its own JVM is measured as a
  ``spark-submit`` row.

Wall time runs from starting the submitting command to its exit (the application COMPLETED).
RSS is sampled every 0.2 s per pod's process group (the JVM, spark-submit's launcher, Python
workers): peak per pod, and the peak of the sum. Needs Java, root, unshare(1) and the pyspark
cache. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

from kubespark import sparkdist
from kubespark.emulator import EmulatorOptions, EmulatorThread
from kubespark.emulator.kubelet.process import ProcessKubelet

JOB = Path(__file__).resolve().parent.parent / "tests" / "realspark" / "jobs" / "squares.py"
NS = "bench"
PAGE = os.sysconf("SC_PAGE_SIZE")


def _group_rss(pgid: int) -> int:
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[21]) * PAGE
    return total


class Sampler(threading.Thread):
    """Peak RSS per pod (and of their sum) while a submission runs."""

    def __init__(self, kubelet: ProcessKubelet, url: str, extra: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.kubelet, self.url, self.extra = kubelet, url, extra
        self.peaks: dict[str, int] = {}
        self.peak_total = 0
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.done.is_set():
                pods = client.get(f"/api/v1/namespaces/{NS}/pods").json()["items"]
                groups = dict(self.extra)
                for pod in pods:
                    name = pod["metadata"]["name"]
                    pgid = self.kubelet.process_group(NS, name)
                    if pgid is not None:
                        groups[name] = pgid
                sizes = {name: _group_rss(pgid) for name, pgid in groups.items()}
                for name, size in sizes.items():
                    self.peaks[name] = max(self.peaks.get(name, 0), size)
                self.peak_total = max(self.peak_total, sum(sizes.values()))
                time.sleep(0.2)


def _prepare(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        client.post("/api/v1/namespaces", json={"metadata": {"name": NS}})
        client.post(
            f"/api/v1/namespaces/{NS}/serviceaccounts", json={"metadata": {"name": "spark"}}
        )
        body = {"metadata": {"name": "job"}, "data": {"job.py": JOB.read_text()}}
        client.post(f"/api/v1/namespaces/{NS}/configmaps", json=body)


def _clean(url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        client.delete(f"/api/v1/namespaces/{NS}/pods")
        while client.get(f"/api/v1/namespaces/{NS}/pods").json()["items"]:
            time.sleep(0.2)


def _kubespark_command(spark: str, kubeconfig: Path, workdir: Path) -> list[str]:
    mount = [{"name": "job", "mountPath": "/mnt/job"}]
    app = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": "squares", "namespace": NS},
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "image": f"apache/spark:{spark}",
            "sparkVersion": spark,
            "mainApplicationFile": "local:///mnt/job/job.py",
            "sparkConf": {"spark.ui.enabled": "false"},
            "volumes": [{"name": "job", "configMap": {"name": "job"}}],
            "driver": {"memory": "512m", "serviceAccount": "spark", "volumeMounts": mount},
            "executor": {"instances": 2, "memory": "512m", "volumeMounts": mount},
        },
    }
    path = workdir / "app.yaml"
    path.write_text(yaml.safe_dump(app))
    kubespark = Path(sys.executable).parent / "kubespark"
    return [str(kubespark), "submit", str(path), "--wait", "--kubeconfig", str(kubeconfig)]


def _spark_submit_command(spark: str, url: str, exe: Path) -> list[str]:
    confs = {
        "spark.kubernetes.namespace": NS,
        "spark.kubernetes.container.image": f"apache/spark:{spark}",
        "spark.kubernetes.authenticate.driver.serviceAccountName": "spark",
        "spark.driver.memory": "512m",
        "spark.executor.memory": "512m",
        "spark.executor.instances": "2",
        "spark.ui.enabled": "false",
    }
    for role in ("driver", "executor"):
        confs[f"spark.kubernetes.{role}.volumes.hostPath.job.mount.path"] = "/mnt/job"
        confs[f"spark.kubernetes.{role}.volumes.hostPath.job.options.path"] = str(JOB.parent)
    cmd = [str(exe), "--master", f"k8s://{url}", "--deploy-mode", "cluster", "--name", "squares"]
    for key, value in confs.items():
        cmd += ["--conf", f"{key}={value}"]
    return [*cmd, "local:///mnt/job/squares.py"]


def _measure(
    label: str, cmd: list[str], env: dict[str, str], kubelet: ProcessKubelet, url: str
) -> None:
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    extra = {"spark-submit": proc.pid} if "spark-submit" in label else {}
    sampler = Sampler(kubelet, url, extra)
    sampler.start()
    output, _ = proc.communicate(timeout=600)
    wall = time.monotonic() - started
    sampler.done.set()
    sampler.join()
    status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    print(f"{label}: {wall:.1f} s to COMPLETED ({status})")
    if proc.returncode != 0:
        print(output.decode(errors="replace")[-2000:])
    for name, peak in sorted(sampler.peaks.items()):
        print(f"  {name:<40} peak RSS {peak / 2**20:7.0f} MiB")
    print(f"  {'all pods together':<40} peak RSS {sampler.peak_total / 2**20:7.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k8s", default="1.21")
    parser.add_argument("--spark", default="3.5.1")
    args = parser.parse_args()
    exe = sparkdist.cached_spark_submit(args.spark)
    java = sparkdist.java_home()
    if exe is None or java is None or os.geteuid() != 0:
        print("skipped: needs Java, root and pyspark", args.spark, "in", sparkdist.cache_root())
        return
    runner = EmulatorThread(EmulatorOptions(version=args.k8s, kubelet="process"))
    emu = runner.start()
    try:
        assert isinstance(emu.kubelet, ProcessKubelet)
        _prepare(emu.url)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = _kubespark_command(args.spark, emu.kubeconfig_path, Path(tmp))
            _measure("kubespark submit --wait", cmd, dict(os.environ), emu.kubelet, emu.url)
        _clean(emu.url)
        env = sparkdist.spark_env(exe, emu.kubeconfig_path, java)
        cmd = _spark_submit_command(args.spark, emu.url, exe)
        _measure(f"spark-submit {args.spark}", cmd, env, emu.kubelet, emu.url)
    finally:
        runner.stop()


if __name__ == "__main__":
    main()
