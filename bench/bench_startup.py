"""Start-up of the ``kubespark`` CLI as a process, beside ``kubectl`` and spark-on-k8s's CLI.

    .venv/bin/python bench/bench_startup.py [--runs 7] [--with-spark-on-k8s] [--python-m]

Runs each command ``--runs`` times as a fresh process (the way a shell runs it) and prints the
median wall time and the median CPU time (user + system, from ``os.wait4``) per command, with
their ratios to ``kubectl version --client`` (skipped when kubectl is not on PATH), beside a
bare ``python -c pass`` of the same interpreter (the floor no Python CLI can go under). CPU
time is the steadier figure on a shared machine: wall time includes waiting for a core. Each
command runs once untimed first, as an installed CLI has run before: Python's bytecode written
(``PYTHONDONTWRITEBYTECODE`` is dropped for the children), kubespark's caches filled (the
knowledge base, the help text, discovery). The offline commands (``--help``, ``--version``,
``check``, ``matrix``, ``plan``, ``validate`` of one file: a Pod, and the SparkApplication of
``examples/spark-pi.yaml``, and ``submit --dry-run --k8s`` of it, the offline plan) aim at
150 ms. ``kubespark submit`` (aim: 300 ms) runs against ``kubespark emulate --k8s 1.29`` in a
child process (``examples/spark-pi.yaml``, a new name per run, the driver parked unschedulable so
the server does the same work every time). spark-on-k8s 0.12.1's CLI (``spark-on-k8s --help`` and
``spark-on-k8s app submit`` of the same SparkPi to the same server) runs when its virtualenv is
in ``.cache/bench`` (``bench/bench_submit.py`` makes it; ``--with-spark-on-k8s`` makes it
here). ``--python-m`` runs ``python -m kubespark`` instead of the console script (to time
another tree of the sources through ``PYTHONPATH``, e.g. an older commit's). Printed, never
asserted; ``tests/cli/test_startup.py`` asserts which modules load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
KUBESPARK = [str(Path(sys.executable).parent / "kubespark")]  # the console script users run
PYTHON_M = [sys.executable, "-m", "kubespark"]
# As an installed CLI runs: bytecode is written once and read after.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SPARK_ON_K8S_VENV = REPO / ".cache" / "bench" / "spark-on-k8s-0.12.1-kubernetes-36.0.3"
PARKED = "kubespark.io/emulate-unschedulable"
SPARK_PI = REPO / "examples" / "spark-pi.yaml"

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: busybox
"""


def _commands(manifest: Path) -> list[tuple[str, list[str]]]:
    """Each row: a label and the command line (``KUBESPARK`` as ``main`` chose it)."""
    rows = [
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        ("kubespark --help", [*KUBESPARK, "--help"]),
        ("kubespark --version", [*KUBESPARK, "--version"]),
        (
            "kubespark check --k8s 1.29 --spark 3.5.1",
            [*KUBESPARK, "check", "--k8s", "1.29", "--spark", "3.5.1"],
        ),
        ("kubespark matrix", [*KUBESPARK, "matrix"]),
        (
            "kubespark plan",
            [*KUBESPARK, "plan", "--from", "spark=3.4.1,k8s=1.19", "--to", "spark=3.5.1,k8s=1.29"],
        ),
        (
            "kubespark validate -f pod.yaml --k8s 1.29",
            [*KUBESPARK, "validate", "-f", str(manifest), "--k8s", "1.29"],
        ),
        (
            # A SparkApplication: kubeflow's webhook rules run too (compiled, from the cache).
            "kubespark validate -f examples/spark-pi.yaml",
            [*KUBESPARK, "validate", "-f", str(SPARK_PI)],
        ),
        (
            "kubespark submit --dry-run --k8s 1.29 (plan)",
            [*KUBESPARK, "submit", str(SPARK_PI), "--dry-run", "--k8s", "1.29"],
        ),
    ]
    kubectl = shutil.which("kubectl")
    if kubectl:
        rows.insert(1, ("kubectl version --client", [kubectl, "version", "--client"]))
    sok = SPARK_ON_K8S_VENV / "bin" / "spark-on-k8s"
    if sok.exists():
        rows.insert(2, ("spark-on-k8s --help", [str(sok), "--help"]))
    return rows


@contextmanager
def _server(workdir: Path) -> Iterator[Path]:
    """``kubespark emulate --k8s 1.29`` in a child process; yields its kubeconfig."""
    kubeconfig = workdir / "kubeconfig"
    process = subprocess.Popen(
        [*KUBESPARK, "emulate", "--k8s", "1.29", "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        for _ in range(1200):
            if kubeconfig.exists():
                break
            time.sleep(0.05)
        yield kubeconfig
    finally:
        process.terminate()
        process.wait(timeout=30)


def _submissions(workdir: Path, kubeconfig: Path, runs: int) -> list[tuple[float, float]]:
    app = yaml.safe_load(SPARK_PI.read_text())
    app["spec"]["driver"].pop("serviceAccount", None)  # the emulator's default one is there
    app["spec"]["driver"]["annotations"] = {PARKED: "true"}
    samples = []
    for run in range(runs + 1):  # the first run fills the discovery cache: not counted
        app["metadata"]["name"] = f"pi-{run}"
        path = workdir / f"pi-{run}.yaml"
        path.write_text(yaml.safe_dump(app))
        sample = _run_once([*KUBESPARK, "submit", str(path), "--kubeconfig", str(kubeconfig)])
        if run:
            samples.append(sample)
    return samples


def _spark_on_k8s_submissions(kubeconfig: Path, runs: int) -> list[tuple[float, float]]:
    """The same SparkPi through spark-on-k8s's CLI (its own flags for what the YAML says)."""
    env = {**ENV, "KUBECONFIG": str(kubeconfig)}
    samples = []
    for run in range(runs + 1):  # the first run writes its bytecode: not counted
        command = [
            str(SPARK_ON_K8S_VENV / "bin" / "spark-on-k8s"), "app", "submit",
            "--image", "apache/spark:3.5.1",
            "--path", "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
            "-n", "default", "--service-account", "default", "--name", f"sok-{run}",
            "--class", "org.apache.spark.examples.SparkPi",
            "--driver-cpu", "1", "--driver-memory", "512",
            "--executor-cpu", "1", "--executor-memory", "512",
            "--executor-initial-instances", "2", "--driver-annotation", f"{PARKED}=true",
            "1000",
        ]  # fmt: skip
        sample = _run_once(command, env)
        if run:
            samples.append(sample)
    return samples


def _run_once(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or ENV
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def _row(label: str, samples: list[tuple[float, float]], peer: tuple[float, float] | None) -> str:
    wall = statistics.median(s[0] for s in samples) * 1000
    cpu = statistics.median(s[1] for s in samples) * 1000
    ratios = f"{wall / peer[0] / 1000:11.1f}x {cpu / peer[1] / 1000:10.1f}x" if peer else ""
    print(f"{label:46} {wall:8.0f} {cpu:8.0f} {ratios}", flush=True)
    return label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--with-spark-on-k8s", action="store_true", help="install spark-on-k8s 0.12.1 if missing"
    )
    parser.add_argument(
        "--python-m", action="store_true", help="run python -m kubespark, not the console script"
    )
    args = parser.parse_args()
    if args.python_m:
        KUBESPARK[:] = PYTHON_M
    if args.with_spark_on_k8s and not SPARK_ON_K8S_VENV.exists():
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_submit import spark_on_k8s_venv

        spark_on_k8s_venv()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "pod.yaml"
        manifest.write_text(POD)
        print(f"{'command':46} {'wall ms':>8} {'cpu ms':>8} {'wall/kubectl':>9} {'cpu/kubectl':>8}")
        peer: tuple[float, float] | None = None
        for label, argv in _commands(manifest):
            _run_once(argv)  # as run before: bytecode and caches written
            samples = [_run_once(argv) for _ in range(args.runs)]
            _row(label, samples, peer)
            if label.startswith("kubectl"):
                peer = (
                    statistics.median(s[0] for s in samples),
                    statistics.median(s[1] for s in samples),
                )
        with _server(Path(tmp)) as kubeconfig:
            _row(
                "kubespark submit (emulated 1.29)",
                _submissions(Path(tmp), kubeconfig, args.runs),
                peer,
            )
            if SPARK_ON_K8S_VENV.exists():
                sok = _spark_on_k8s_submissions(kubeconfig, args.runs)
                _row("spark-on-k8s app submit (emulated 1.29)", sok, peer)


if __name__ == "__main__":
    main()
