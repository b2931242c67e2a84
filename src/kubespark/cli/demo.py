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

It must stay fast (well under 20 s without spark-submit) and never download unless asked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, cast

import typer
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
) -> None:
    """Spark 3.5.1 on Kubernetes 1.19: the verdict, spark-submit failing, kubespark succeeding."""
    console = stdout()
    console.print(f"[bold]kubespark demo[/]: Spark {SEED_SPARK} on Kubernetes {SEED_KUBERNETES}")
    show_check_verdict(console)
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
def seed_server() -> Iterator[RunningEmulator]:
    """An emulated Kubernetes 1.19 with the namespace and service account SparkPi runs in."""
    options = EmulatorOptions(version=SEED_KUBERNETES, speed=SPEED, namespaces=(NAMESPACE,))
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


def show_kubespark_submit(console: Console, server: RunningEmulator) -> bool:
    """Step 3: ``kubespark submit --wait`` of the same SparkPi on the same server."""
    console.rule("kubespark submit spark-pi.yaml --wait: the same SparkPi, the same server")
    app = load_application(DEMO_APP)
    progress = TextProgress(console)
    try:
        outcome = asyncio.run(
            submit_and_follow(
                app,
                Target(kubeconfig=str(server.kubeconfig_path)),
                follow_seconds=FOLLOW_SECONDS,
                on_submitted=progress.submitted,
                on_progress=progress.progress,
            )
        )
    finally:
        progress.stop()
    render_outcome(console, outcome)
    return outcome.succeeded


def show_both_sides(console: Console, spark_submit: int | None, kubespark: bool) -> None:
    """The two results on one server, side by side."""
    console.rule(f"the same SparkPi on the same emulated Kubernetes {SEED_KUBERNETES}")
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
