"""``kubespark suspend`` and ``kubespark resume``: flip ``spec.suspend`` on an operator's app.

The operator does the rest (a running SparkApplication's driver is stopped and kept SUSPENDED; a
ScheduledSparkApplication starts no run until resumed), as kubeflow's does. Exit codes: 0 done,
2 no such application or bad flags.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from kubespark.cli.output import EXIT_OK, OutputFormat, print_json
from kubespark.submit.operator_apps import OperatorApp
from kubespark.submit.operator_apps import suspend as set_suspend
from kubespark.submit.submitted_apps import connect

__all__ = ["resume", "suspend"]

Name = Annotated[str, typer.Argument(help="the SparkApplication or ScheduledSparkApplication")]
Namespace = Annotated[
    str | None, typer.Option("-n", "--namespace", help="default: the context's namespace")
]
Kubeconfig = Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file")]
Context = Annotated[str | None, typer.Option("--context", help="kubeconfig context")]
Output = Annotated[OutputFormat, typer.Option("-o", "--output")]


def suspend(
    name: Name,
    namespace: Namespace = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Output = OutputFormat.TEXT,
) -> None:
    """Suspend a SparkApplication or ScheduledSparkApplication (spec.suspend: true)."""
    _set(name, namespace, kubeconfig, context, output, value=True)


def resume(
    name: Name,
    namespace: Namespace = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Output = OutputFormat.TEXT,
) -> None:
    """Resume a suspended SparkApplication or ScheduledSparkApplication."""
    _set(name, namespace, kubeconfig, context, output, value=False)


def _set(
    name: str,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
    output: OutputFormat,
    *,
    value: bool,
) -> None:
    app = asyncio.run(_patch(name, namespace, kubeconfig, context, value))
    if output is OutputFormat.JSON:
        print_json(app.view())
    else:
        verb = "suspended" if value else "resumed"
        typer.echo(f"{app.kind.value.lower()}/{app.name} {verb} in {app.namespace}")
    raise typer.Exit(EXIT_OK)


async def _patch(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None, value: bool
) -> OperatorApp:
    async with connect(kubeconfig, context) as client:
        return await set_suspend(client, namespace or client.namespace, name, value)
