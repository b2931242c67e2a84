"""``kubespark demo``: the README's main job on the embedded defaults.

It grows with the project: today it shows the seed case's verdict (Spark 3.5.1 on Kubernetes
1.19); later it starts the emulator, shows spark-submit failing and kubespark succeeding.
"""

from __future__ import annotations

import typer

from kubespark.cli.output import stdout


def demo() -> None:
    """Show what kubespark answers for the seed case: Spark 3.5.1 on Kubernetes 1.19."""
    console = stdout()
    console.print("[bold]kubespark demo[/]: Spark 3.5.1 on Kubernetes 1.19")
    raise typer.Exit(0)
