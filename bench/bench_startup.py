"""Start-up of the ``kubespark`` CLI as a process, beside ``kubectl version --client``.

    .venv/bin/python bench/bench_startup.py [--runs 7]

Runs each command ``--runs`` times as a fresh process (the way a shell runs it) and prints the
median wall time and the median CPU time (user + system, from ``os.wait4``) per command, with the
ratio to ``kubectl version --client`` (skipped when kubectl is not on PATH) and to a bare
``python -c pass`` of the same interpreter (the floor no Python CLI can go under). CPU time is the
steadier figure on a shared machine: wall time includes waiting for a core. The offline commands
(``--help``, ``--version``, ``check``, ``matrix``, ``plan``, ``validate`` of one file) aim at
150 ms. ``kubespark submit`` (aim: 300 ms) runs against ``kubespark emulate --k8s 1.29`` in a
child process (``examples/spark-pi.yaml``, a new name per run, the driver parked unschedulable
so the server does the same work every time; discovery cached after the first run, as kubectl
caches it). Printed, never asserted; ``tests/cli/test_startup.py`` asserts which modules load.
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
KUBESPARK = [sys.executable, "-m", "kubespark"]

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
    ]
    kubectl = shutil.which("kubectl")
    if kubectl:
        rows.insert(1, ("kubectl version --client", [kubectl, "version", "--client"]))
    return rows


@contextmanager
def _server(workdir: Path) -> Iterator[Path]:
    """``kubespark emulate --k8s 1.29`` in a child process; yields its kubeconfig."""
    kubeconfig = workdir / "kubeconfig"
    process = subprocess.Popen(
        [*KUBESPARK, "emulate", "--k8s", "1.29", "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
    app = yaml.safe_load((REPO / "examples" / "spark-pi.yaml").read_text())
    app["spec"]["driver"].pop("serviceAccount", None)  # the emulator's default one is there
    app["spec"]["driver"]["annotations"] = {"kubespark.io/emulate-unschedulable": "true"}
    samples = []
    for run in range(runs + 1):  # the first run fills the discovery cache: not counted
        app["metadata"]["name"] = f"pi-{run}"
        path = workdir / f"pi-{run}.yaml"
        path.write_text(yaml.safe_dump(app))
        sample = _run_once([*KUBESPARK, "submit", str(path), "--kubeconfig", str(kubeconfig)])
        if run:
            samples.append(sample)
    return samples


def _run_once(argv: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "pod.yaml"
        manifest.write_text(POD)
        print(f"{'command':46} {'wall ms':>8} {'cpu ms':>8}")
        for label, argv in _commands(manifest):
            samples = [_run_once(argv) for _ in range(args.runs)]
            wall = statistics.median(s[0] for s in samples) * 1000
            cpu = statistics.median(s[1] for s in samples) * 1000
            print(f"{label:46} {wall:8.0f} {cpu:8.0f}")
        with _server(Path(tmp)) as kubeconfig:
            samples = _submissions(Path(tmp), kubeconfig, args.runs)
        wall = statistics.median(s[0] for s in samples) * 1000
        cpu = statistics.median(s[1] for s in samples) * 1000
        print(f"{'kubespark submit (emulated 1.29)':46} {wall:8.0f} {cpu:8.0f}")


if __name__ == "__main__":
    main()
