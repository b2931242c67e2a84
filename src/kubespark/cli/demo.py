"""``kubespark demo``: the README's main job on the embedded defaults, step by step.

Each step is a small function of the console (and, from step 2 on, the emulated server the steps
share), so a new capability appends a step:

1. ``kubespark check``'s verdict on the seed case, Spark 3.5.1 on Kubernetes 1.19;
2. an emulated 1.19 in this process, and the real spark-submit 3.5.1 against it, failing as
   kubeflow/spark-operator#2048 reports (where Java and a cached pyspark are present;
   ``--with-spark-submit`` installs pyspark 3.5.1 into the user cache first);
3. ``kubespark submit --wait`` of the same SparkPi on the same server: the compat notes, the
   driver running to completion; then both results side by side;
4. the kubespark operator on an emulated 1.19 of its own: the CRDs installed, a Spark 3.5.1
   SparkApplication applied and run to COMPLETED, with its compat notes.

``--real`` runs steps 2 and 3 with real Spark: the emulated 1.19 runs Apache Spark image pods as
local processes (``--kubelet process``), and step 3 submits a PySpark job kept in a ConfigMap
(``data/squares*.yaml``) whose real driver starts two real executors and prints its answer. It
installs pyspark 3.5.1 on demand, needs Java 17, root and unshare(1), and takes about a minute.

By default it must stay fast (well under 20 s without spark-submit) and never download unless
asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, cast

import typer
import yaml
from rich.console import Console

from kubespark import sparkdist
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, stdout
from kubespark.cli.submit import TextProgress, render_outcome
from kubespark.cli.verdicts import render_assessment
from kubespark.emulator import Emulator, EmulatorOptions, emulator_in_thread
from kubespark.emulator.apiserver.api import WriteOptions
from kubespark.emulator.server import RunningEmulator
from kubespark.knowledge import Combination, evaluate
from kubespark.kube.client import KubeClient
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.install import install_crds
from kubespark.operator.options import OperatorOptions
from kubespark.operator.runtime import run_operator
from kubespark.spark import load_application
from kubespark.submit import server_capabilities
from kubespark.submit.flow import Target, submit_and_follow
from kubespark.versions import parse_kube_version, parse_spark_version

SEED_SPARK = "3.5.1"
SEED_KUBERNETES = "1.19"
DEMO_APP = Path(__file__).resolve().parent / "data" / "spark-pi.yaml"
REAL_APP = Path(__file__).resolve().parent / "data" / "squares.yaml"
REAL_JOB = Path(__file__).resolve().parent / "data" / "squares-job.yaml"
REAL_ANSWER = sum(x * x for x in range(1, 100_001))  # what squares-job.yaml's job prints
REAL_FOLLOW_SECONDS = 600.0  # real JVMs: about a minute on two busy cores
NAMESPACE = "spark-jobs"
SPEED = 10.0  # the simulated driver and kubelet run ten times faster than real time
FOLLOW_SECONDS = 120.0  # SparkPi ends in about a second at this speed; this only bounds a bug


def demo(
    with_spark_submit: Annotated[
        bool,
        typer.Option(
            "--with-spark-submit",
            help=f"install pyspark {SEED_SPARK} into the user cache (about 300 MB, a few "
            "minutes) if it is missing, to show the real spark-submit failing too",
        ),
    ] = False,
    real: Annotated[
        bool,
        typer.Option(
            "--real",
            help=f"run the Spark pods as real Spark {SEED_SPARK} processes (a PySpark job, a "
            "driver and 2 executors; installs pyspark on demand; needs Java 17, root and "
            "unshare; about a minute)",
        ),
    ] = False,
) -> None:
    """Spark 3.5.1 on Kubernetes 1.19: the verdict, spark-submit failing, kubespark succeeding."""
    console = stdout()
    console.print(f"[bold]kubespark demo[/]: Spark {SEED_SPARK} on Kubernetes {SEED_KUBERNETES}")
    show_check_verdict(console)
    if real:
        raise typer.Exit(show_real_spark(console))
    with seed_server() as server:
        theirs = show_spark_submit_on_emulator(console, server, install=with_spark_submit)
        ours = show_kubespark_submit(console, server)
    show_both_sides(console, theirs, ours)
    show_operator_on_emulator(console)
    raise typer.Exit(EXIT_OK if ours else EXIT_FINDING)


def show_check_verdict(console: Console) -> None:
    """Step 1: before deploying, what will break and why (``kubespark check``)."""
    console.rule("kubespark check --spark 3.5.1 --k8s 1.19")
    seed = Combination(
        spark=parse_spark_version(SEED_SPARK), kubernetes=parse_kube_version(SEED_KUBERNETES)
    )
    render_assessment(
        console, evaluate(seed), f"Spark {SEED_SPARK} on Kubernetes {SEED_KUBERNETES}"
    )


# ---- the shared server -------------------------------------------------------------------------


@contextlib.contextmanager
def seed_server(kubelet: str = "simulated") -> Iterator[RunningEmulator]:
    """An emulated Kubernetes 1.19 with the namespace and service account SparkPi runs in."""
    speed = SPEED if kubelet == "simulated" else 1.0  # real processes run in real time
    options = EmulatorOptions(
        version=SEED_KUBERNETES, speed=speed, namespaces=(NAMESPACE,), kubelet=kubelet
    )
    with emulator_in_thread(options=options) as running:
        emu = running.emulator
        assert emu is not None
        account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
        running.call(_create(emu, "serviceaccounts", account))
        yield RunningEmulator(running, emu)


async def _create(emu: Emulator, plural: str, body: dict[str, Any]) -> None:
    res = emu.api.resource("", "v1", plural)
    assert res is not None
    emu.api.create(res, NAMESPACE, body, WriteOptions())


# ---- step 2: the real spark-submit -------------------------------------------------------------


def _cached_spark_submit(version: str) -> Path | None:
    """spark-submit of a cached pyspark (``sparkdist.cache_root()/<version>/``), or None."""
    return sparkdist.cached_spark_submit(version)


def show_spark_submit_on_emulator(
    console: Console, server: RunningEmulator | None = None, *, install: bool = False
) -> int | None:
    """Step 2: the real spark-submit 3.5.1 against the emulated 1.19 (its own, without one).

    Returns spark-submit's exit code, or None when it could not run here.
    """
    if server is None:
        with seed_server() as own:
            return show_spark_submit_on_emulator(console, own, install=install)
    console.rule(f"the real spark-submit {SEED_SPARK} against an emulated {SEED_KUBERNETES}")
    console.print(f"emulated Kubernetes {server.emulator.version} at {server.url}", highlight=False)
    java = sparkdist.java_home()
    exe = _cached_spark_submit(SEED_SPARK)
    if exe is None and install and java is not None:
        home = sparkdist.cache_root() / SEED_SPARK
        console.print(f"installing pyspark {SEED_SPARK} into {home}/ ...")
        exe = sparkdist.install_pyspark(SEED_SPARK)
    if exe is None or java is None:
        _say_how_to_enable(console, java is None)
        return None
    result = sparkdist.run_spark_pi(exe, SEED_SPARK, server.url, server.kubeconfig_path, java)
    console.print(
        f"spark-submit {SEED_SPARK} exited with {result.returncode}; the server said:",
        highlight=False,
    )
    for line in sparkdist.failure_excerpt(result.stdout + result.stderr):
        console.print(f"  {line}", highlight=False, markup=False)
    return result.returncode


def _say_how_to_enable(console: Console, no_java: bool) -> None:
    home = sparkdist.cache_root() / SEED_SPARK
    missing = "Java" if no_java else f"pyspark {SEED_SPARK} in {home}/"
    console.print(
        f"skipped: {missing} not found, so the verdict above stands for the real client. "
        f"To see it: kubespark demo --with-spark-submit (or: python3 -m venv {home} && "
        f"{home}/bin/pip install pyspark=={SEED_SPARK} && touch {home}/{sparkdist.INSTALLED}); "
        "Java 17 must be on PATH.",
        highlight=False,
    )


# ---- step 3: kubespark submit ------------------------------------------------------------------


def show_kubespark_submit(
    console: Console,
    server: RunningEmulator,
    path: Path = DEMO_APP,
    follow_seconds: float = FOLLOW_SECONDS,
) -> bool:
    """Step 3: ``kubespark submit --wait`` of the same SparkPi on the same server."""
    console.rule(f"kubespark submit {path.name} --wait: the same Spark, the same server")
    app = load_application(path)
    progress = TextProgress(console)
    try:
        outcome = asyncio.run(
            submit_and_follow(
                app,
                Target(kubeconfig=str(server.kubeconfig_path)),
                follow_seconds=follow_seconds,
                on_submitted=progress.submitted,
                on_progress=progress.progress,
            )
        )
    finally:
        progress.stop()
    render_outcome(console, outcome)
    return outcome.succeeded


# ---- --real: the same steps with real Spark processes ------------------------------------------


def show_real_spark(console: Console) -> int:
    """Steps 2 and 3 on a process kubelet: real spark-submit fails, real Spark runs the job."""
    missing = _real_spark_missing()
    if missing:
        console.print(f"[red]cannot run real Spark here[/]: {missing}", highlight=False)
        return EXIT_FINDING
    with seed_server(kubelet="process") as server:
        theirs = show_spark_submit_on_emulator(console, server, install=True)
        server.call(_create(server.emulator, "configmaps", _job_config_map()))
        ours = show_kubespark_submit(console, server, REAL_APP, REAL_FOLLOW_SECONDS)
        answer = _job_answer(server)
    show_both_sides(console, theirs, ours, "spark-submit's SparkPi, kubespark's PySpark job")
    if answer is None:
        console.print("[red]the driver's log has no answer[/]")
        return EXIT_FINDING
    right = "right" if answer == REAL_ANSWER else f"wrong: {REAL_ANSWER} expected"
    console.print(
        f"the real Spark {SEED_SPARK} driver and its 2 executors computed "
        f"sum(x*x for x in 1..100000) = {answer} ({right})",
        highlight=False,
    )
    return EXIT_OK if ours and answer == REAL_ANSWER else EXIT_FINDING


def _real_spark_missing() -> str:
    """What this machine lacks to run Spark pods as processes ('' when nothing)."""
    if sparkdist.java_home() is None:
        return f"Spark {SEED_SPARK} runs on Java 17 and no java is on PATH: install a JDK 17"
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return (
            "the process kubelet gives each pod its own mount namespace, which needs root and "
            "unshare(1) (util-linux): run as root, or without --real"
        )
    return ""


def _job_config_map() -> dict[str, Any]:
    loaded = yaml.safe_load(REAL_JOB.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _job_answer(server: RunningEmulator) -> int | None:
    """The number the job printed in the driver pod's log."""
    kubelet = server.emulator.kubelet
    if kubelet is None:
        return None
    lines = kubelet.log_lines(NAMESPACE, "squares-driver", "spark-kubernetes-driver")
    found = [m for line in lines if (m := re.search(r"kubespark-answer (\d+)$", line))]
    return int(found[-1].group(1)) if found else None


def show_both_sides(
    console: Console, spark_submit: int | None, kubespark: bool, what: str = "the same SparkPi"
) -> None:
    """The two results on one server, side by side."""
    console.rule(f"{what} on the same emulated Kubernetes {SEED_KUBERNETES}")
    if spark_submit is None:
        console.print(f"spark-submit {SEED_SPARK}: not run here (see above how to enable it)")
    else:
        verdict = "failed" if spark_submit else "succeeded"
        console.print(f"spark-submit {SEED_SPARK}: {verdict}, exit code {spark_submit}")
    verdict = "[green]completed[/]" if kubespark else "[red]failed[/]"
    console.print(f"kubespark submit: {verdict}, exit code {0 if kubespark else 1}")


# ---- step 4: the kubespark operator ------------------------------------------------------------

OPERATOR_APP = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi", "namespace": "default"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "image": f"apache/spark:{SEED_SPARK}",
        "sparkVersion": SEED_SPARK,
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
        "arguments": ["1000"],
        "executor": {"instances": 2},
    },
}


def show_operator_on_emulator(console: Console) -> None:
    """Step 4: install the CRDs on an emulated 1.19, run the operator, see a 3.5.1 app complete."""
    console.rule("kubespark install-crds, kubespark operator, a Spark 3.5.1 SparkApplication")
    options = EmulatorOptions(version=SEED_KUBERNETES, speed=10)
    with emulator_in_thread(options=options) as running:
        emu = running.emulator
        assert emu is not None
        console.print(f"emulated Kubernetes {emu.version} at {emu.url}", highlight=False)
        asyncio.run(_operator_demo(console, emu.kubeconfig_path))


async def _operator_demo(console: Console, kubeconfig: Path) -> None:
    async with KubeClient.from_kubeconfig(str(kubeconfig)) as client:
        result = await install_crds(client, await server_capabilities(client))
        console.print(f"CRDs established: {', '.join(result.established)}", highlight=False)
        options = OperatorOptions(kubeconfig=kubeconfig, standalone=True, metrics_port=0)
        stop = asyncio.Event()
        operator = asyncio.create_task(run_operator(options, stop=stop))
        path = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default/sparkapplications"
        created = await client.send(KubeRequest("POST", path, (), JSON, OPERATOR_APP))
        console.print(f"applied SparkApplication spark-pi (Spark {SEED_SPARK})", highlight=False)
        status = await _follow(console, client, path, created["metadata"]["resourceVersion"])
        for note in status.get("compatNotes", []):
            console.print(f"  compat note: {note}", highlight=False, markup=False)
        stop.set()
        await operator


async def _follow(console: Console, client: KubeClient, path: str, version: str) -> dict[str, Any]:
    """Print each state the application passes through until it ends (at most a minute).

    A watch from the creation on, not polling: the operator may pass a state (SUBMITTED) faster
    than a poll comes round, and the demo shows every one.
    """
    seen, status = "", cast(dict[str, Any], {})
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while True:  # a watch the server closes is resumed from the last version seen
                query = (("watch", "true"), ("resourceVersion", version))
                async for event in client.watch(KubeRequest("GET", path, query)):
                    meta = event.object.get("metadata") or {}
                    if meta.get("name") != "spark-pi":
                        continue
                    version = str(meta.get("resourceVersion") or version)
                    status = event.object.get("status") or {}
                    state = (status.get("applicationState") or {}).get("state", "")
                    if state and state != seen:
                        console.print(f"  spark-pi: {state}", highlight=False)
                        seen = state
                    if state in ("COMPLETED", "FAILED"):
                        return status
    return status
