"""``kubespark demo``: the README's main job on the embedded defaults.

It grows with the project, one step function per capability: today it shows ``kubespark check``'s
verdict on the seed case (Spark 3.5.1 on Kubernetes 1.19); later steps start the emulator, show
spark-submit failing and kubespark succeeding.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from kubespark.cli.output import stdout
from kubespark.cli.verdicts import render_assessment
from kubespark.emulator import Emulator, EmulatorOptions, emulator_in_thread
from kubespark.emulator.api import WriteOptions
from kubespark.knowledge import Combination, evaluate
from kubespark.versions import parse_kube_version, parse_spark_version

SEED_SPARK = "3.5.1"
SEED_KUBERNETES = "1.19"


def demo() -> None:
    """Show what kubespark answers for the seed case: Spark 3.5.1 on Kubernetes 1.19."""
    console = stdout()
    console.print(f"[bold]kubespark demo[/]: Spark {SEED_SPARK} on Kubernetes {SEED_KUBERNETES}")
    show_check_verdict(console)
    show_spark_submit_on_emulator(console)
    raise typer.Exit(0)


def show_check_verdict(console: Console) -> None:
    """Step 1: before deploying, what will break and why (``kubespark check``)."""
    console.rule("kubespark check --spark 3.5.1 --k8s 1.19")
    seed = Combination(
        spark=parse_spark_version(SEED_SPARK), kubernetes=parse_kube_version(SEED_KUBERNETES)
    )
    render_assessment(
        console, evaluate(seed), f"Spark {SEED_SPARK} on Kubernetes {SEED_KUBERNETES}"
    )


# --- step 2: the real spark-submit against an emulated 1.19 (kubespark emulate) ---------------
def _cached_spark_submit(version: str) -> Path | None:
    """spark-submit of a cached pyspark (``.cache/pyspark/<version>/``), or None."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        exe = root / ".cache" / "pyspark" / version / "bin" / "spark-submit"
        if exe.exists():
            return exe
    return None


def _java_home() -> str | None:
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def _submit(exe: Path, url: str, kubeconfig: Path, java: str) -> subprocess.CompletedProcess[str]:
    version = exe.parent.parent.name
    site = next((exe.parent.parent / "lib").glob("python3*/site-packages"))
    env = {
        **os.environ,
        "JAVA_HOME": java,
        "SPARK_HOME": str(site / "pyspark"),
        "KUBECONFIG": str(kubeconfig),
        "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    cmd = [
        str(exe),
        "--master",
        f"k8s://{url}",
        "--deploy-mode",
        "cluster",
        "--name",
        "spark-pi",
        "--class",
        "org.apache.spark.examples.SparkPi",
        "--conf",
        "spark.kubernetes.namespace=spark-jobs",
        "--conf",
        f"spark.kubernetes.container.image=apache/spark:{version}",
        "--conf",
        "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
        "--conf",
        "spark.executor.instances=2",
        f"local:///opt/spark/examples/jars/spark-examples_2.12-{version}.jar",
        "1000",
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


def _failure_excerpt(output: str) -> list[str]:
    """The lines of spark-submit's output that carry the server's answer."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "Failure executing" in line), None)
    if start is None:
        return [line for line in lines if "Exception" in line][:3]
    excerpt = [lines[start]]
    for line in lines[start + 1 : start + 8]:
        if line.startswith(("\tat ", "Caused by")):
            break
        excerpt.append(line)
    return excerpt


def show_spark_submit_on_emulator(console: Console) -> None:
    """Step 2: the real spark-submit 3.5.1 against an emulated 1.19 (``kubespark emulate``)."""
    console.rule("kubespark emulate --k8s 1.19, then the real spark-submit 3.5.1")
    exe, java = _cached_spark_submit(SEED_SPARK), _java_home()
    if exe is None or java is None:
        missing = (
            "Java" if java is None else f"pyspark {SEED_SPARK} in .cache/pyspark/{SEED_SPARK}/"
        )
        console.print(
            f"skipped: {missing} not found, so the verdict above stands for the real client. "
            f"To see it: python3 -m venv .cache/pyspark/{SEED_SPARK} && "
            f".cache/pyspark/{SEED_SPARK}/bin/pip install pyspark=={SEED_SPARK} (or run the "
            "pyspark test tier once); Java 17 must be on PATH.",
            highlight=False,
        )
        return
    options = EmulatorOptions(version=SEED_KUBERNETES, speed=10, namespaces=("spark-jobs",))
    with emulator_in_thread(options=options) as running:
        emu = running.emulator
        assert emu is not None
        account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
        running.call(_create(emu, "serviceaccounts", account))
        console.print(f"emulated Kubernetes {emu.version} at {emu.url}", highlight=False)
        result = _submit(exe, emu.url, emu.kubeconfig_path, java)
    console.print(
        f"spark-submit {SEED_SPARK} exited with {result.returncode}; the server said:",
        highlight=False,
    )
    for line in _failure_excerpt(result.stdout + result.stderr):
        console.print(f"  {line}", highlight=False, markup=False)


async def _create(emu: Emulator, plural: str, body: dict[str, Any]) -> None:
    res = emu.api.resource("", "v1", plural)
    assert res is not None
    emu.api.create(res, "spark-jobs", body, WriteOptions())
