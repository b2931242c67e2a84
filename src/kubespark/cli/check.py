"""``kubespark check``: will this Spark / operator / Kubernetes combination work, and if not, why?

Gathers versions from flags (``--spark``, ``--image``, ``--operator``, ``--k8s``), a
SparkApplication file (``-f``: spec.sparkVersion and spec.image) or a live cluster
(``--kubeconfig``/``--context``: the server's version and an installed operator's image), asks
the knowledge base for an assessment, and renders it. Exit codes: 0 every path assessed is
compatible, 1 some path is incompatible or depends on something not given, 2 usage or input error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, markup_stdout, print_json
from kubespark.cli.plain import escape
from kubespark.cli.verdicts import render_assessment
from kubespark.errors import InputError, KubesparkError
from kubespark.knowledge import Combination, assessment_view, evaluate, load_knowledge
from kubespark.versions import (
    OperatorVersion,
    Version,
    parse_jdk_version,
    parse_kube_version,
    parse_operator_version,
    parse_spark_version,
    spark_version_from_image,
)

__all__ = ["check"]

# typer and the shared flags are named only in the signature's annotations, which stay text
# (PEP 563) until kubespark.cli.app resolves them to build the typer command: entry's short path
# runs this command without importing typer.
# Only what a flag needs is imported when it is given: the SparkApplication models (-f), asyncio
# and the HTTP stack (--kubeconfig) cost more than an offline check itself.
if TYPE_CHECKING:
    import typer

    from kubespark.cli.flags import ContextFlag, KubeVersionFlag, LiveKubeconfigFlag, OutputFlag
    from kubespark.kube.discovery import ClusterFacts
    from kubespark.spark.executor_fidelity import ExecutorFieldLost

T = TypeVar("T")


def check(
    spark: Annotated[
        str | None, typer.Option("--spark", help="Spark version, e.g. 3.5.1 or 3.5")
    ] = None,
    operator: Annotated[
        str | None,
        typer.Option("--operator", help="spark-operator tag or image, e.g. v1beta2-1.6.2-3.5.0"),
    ] = None,
    k8s: KubeVersionFlag = None,
    image: Annotated[
        str | None,
        typer.Option("--image", help="Spark image whose tag names the version, e.g. spark:3.5.0"),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("-f", "--file", help="a SparkApplication YAML file")
    ] = None,
    kubeconfig: LiveKubeconfigFlag = None,
    context: ContextFlag = None,
    jdk: Annotated[
        str | None,
        typer.Option("--jdk", help="the JDK spark-submit and the driver run on: 8u252, 17"),
    ] = None,
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """Say, per submission path, whether a combination works, why not, and what to do."""
    live = kubeconfig is not None or context is not None
    if live and k8s is not None:
        raise InputError(
            "give the Kubernetes version once: --k8s, or a live server through "
            "--kubeconfig/--context",
            where="--k8s",
            fix="drop --k8s or --kubeconfig/--context",
        )
    cluster = _live_cluster(kubeconfig, context) if live else None
    combination = Combination(
        spark=_spark(spark, image, file),
        operator=_operator(operator, cluster),
        kubernetes=cluster.kubernetes if cluster else _kube(k8s),
        jdk=None if jdk is None else _parsed("--jdk", parse_jdk_version, jdk),
    )
    assessment = evaluate(combination)
    lost = _executor_fields_lost(file)
    if output is OutputFormat.JSON:
        view = assessment_view(assessment)
        if cluster is not None:
            view["cluster"] = _cluster_view(cluster)
        if file is not None:
            view["executorFieldsLost"] = [
                {"field": f"spec.{item.path}", "message": item.message, "fix": item.fix}
                for item in lost
            ]
        print_json(view)
    else:
        console = markup_stdout()
        if cluster is not None:
            console.print(f"[dim]server {cluster.server}: {cluster.git_version}[/]")
            for note in cluster.notes:
                console.print(f"[yellow]note:[/] {note}")
        for item in lost:
            console.print(f"[yellow]note:[/] {escape(item.message)}; instead, {escape(item.fix)}")
        render_assessment(console, assessment, _title(combination))
    raise SystemExit(EXIT_OK if assessment.compatible else EXIT_FINDING)


def _title(combo: Combination) -> str:
    parts = [f"Spark {combo.spark}" if combo.spark else "", str(combo.operator or "")]
    what = " with operator ".join(p for p in parts if p) or "kubespark"
    where = f"Kubernetes {combo.kubernetes}" if combo.kubernetes else "an unknown Kubernetes"
    return f"kubespark check: {what} on {where}"


# -- inputs -----------------------------------------------------------------------------------


def _parsed(flag: str, parse: Callable[[str], T], text: str) -> T:
    """``parse(text)``, with errors naming the flag (or file:line) the text came from."""
    try:
        return parse(text)
    except KubesparkError as err:
        err.where = err.where or flag
        raise


def _spark(spark: str | None, image: str | None, file: Path | None) -> Version | None:
    """The app's Spark from whichever of --spark, --image, -f gave it; they must agree."""
    found: dict[str, Version] = {}
    if spark is not None:
        found["--spark"] = _parsed("--spark", parse_spark_version, spark)
    if image is not None:
        from_image = spark_version_from_image(image)
        if from_image is None:
            raise InputError(
                f"the tag of {image!r} does not name a Spark version",
                where="--image",
                fix="give an image tagged with its version (spark:3.5.0) or use --spark",
            )
        found["--image"] = from_image
    if file is not None:
        from kubespark.spark.app_versions import read_spark_application

        app = read_spark_application(file)
        found[app.origin] = app.spark
    if len({str(v) for v in found.values()}) > 1:
        said = ", ".join(f"{where} says {v}" for where, v in found.items())
        raise InputError(f"conflicting Spark versions: {said}", fix="give one Spark version")
    return next(iter(found.values()), None)


def _executor_fields_lost(file: Path | None) -> tuple[ExecutorFieldLost, ...]:
    """Fields of the -f application its Spark driver overwrites in executors (compat notes)."""
    if file is None:
        return ()
    from kubespark.spark.app_versions import read_spark_application

    return read_spark_application(file).executor_fields_lost


def _kube(text: str | None) -> Version | None:
    """``--k8s``, refused outside the minors the knowledge base covers, as ``plan`` refuses.

    A live server newer than the data still gets a verdict with a caveat: it exists. A version
    typed on the command line that no data covers is more likely a typo than a release.
    """
    if text is None:
        return None
    version = _parsed("--k8s", parse_kube_version, text)
    minors = load_knowledge().kube_minors
    if version.minor_version not in minors:
        raise InputError(
            f"Kubernetes {version.minor_version} is not a minor kubespark knows",
            where="--k8s",
            fix=f"give a minor from {minors[0]} to {minors[-1]}",
        )
    return version


def _operator(text: str | None, cluster: ClusterFacts | None) -> OperatorVersion | None:
    if text is not None:
        return _parsed("--operator", parse_operator_version, text)
    if cluster is None or not cluster.operator_images:
        return None
    return _parsed(
        "the cluster's operator image", parse_operator_version, cluster.operator_images[0]
    )


# -- live cluster ------------------------------------------------------------------------------


def _live_cluster(kubeconfig: str | None, context: str | None) -> ClusterFacts:
    import asyncio

    return asyncio.run(_discover(kubeconfig, context))


async def _discover(kubeconfig: str | None, context: str | None) -> ClusterFacts:
    from kubespark.kube.client import KubeClient
    from kubespark.kube.discovery import discover

    async with KubeClient.from_kubeconfig(
        kubeconfig, context, timeout=10.0, pooled=False
    ) as client:
        return await discover(client)


def _cluster_view(cluster: ClusterFacts) -> dict[str, Any]:
    return {
        "server": cluster.server,
        "gitVersion": cluster.git_version,
        "operator_images": list(cluster.operator_images),
        "notes": list(cluster.notes),
    }
