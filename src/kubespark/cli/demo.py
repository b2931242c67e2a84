"""``kubespark demo``: the README's main job on the embedded defaults.

It grows with the project, one step function per capability: today it shows ``kubespark check``'s
verdict on the seed case (Spark 3.5.1 on Kubernetes 1.19); later steps start the emulator, show
spark-submit failing and kubespark succeeding.
"""

from __future__ import annotations

import typer
from rich.console import Console

from kubespark.cli.output import stdout
from kubespark.cli.verdicts import render_assessment
from kubespark.knowledge import Combination, evaluate
from kubespark.versions import parse_kube_version, parse_spark_version

SEED_SPARK = "3.5.1"
SEED_KUBERNETES = "1.19"


def demo() -> None:
    """Show what kubespark answers for the seed case: Spark 3.5.1 on Kubernetes 1.19."""
    console = stdout()
    console.print(f"[bold]kubespark demo[/]: Spark {SEED_SPARK} on Kubernetes {SEED_KUBERNETES}")
    show_check_verdict(console)
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
