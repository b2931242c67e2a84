"""``kubespark suspend`` and ``kubespark resume``: flip ``spec.suspend`` on an operator's app.

The operator does the rest (a running SparkApplication's driver is stopped and kept SUSPENDED; a
ScheduledSparkApplication starts no run until resumed), as kubeflow's does. Exit codes: 0 done,
2 no such application or bad flags. ``-o json|yaml`` prints the application as ``list`` does,
``-o name`` its ``kind/name``, as ``kubectl patch -o`` would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

import typer

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag, ObjectOutputFlag
from kubespark.cli.output import EXIT_OK, ObjectFormat, kind_name, print_json, print_yaml
from kubespark.submit.operator_apps import OperatorApp
from kubespark.submit.operator_apps import suspend as set_suspend
from kubespark.submit.submitted_apps import connect

__all__ = ["resume", "suspend"]

Name = Annotated[str, typer.Argument(help="the SparkApplication or ScheduledSparkApplication")]


def _command(value: bool, doc: str) -> Callable[..., None]:
    """The command that sets ``spec.suspend`` to ``value``: suspend and resume differ in no
    other way."""

    def command(
        name: Name,
        namespace: NamespaceFlag = None,
        kubeconfig: KubeconfigFlag = None,
        context: ContextFlag = None,
        output: ObjectOutputFlag = ObjectFormat.TEXT,
    ) -> None:
        _set(name, namespace, kubeconfig, context, output, value=value)

    command.__doc__ = doc
    return command


suspend = _command(
    True, "Suspend a SparkApplication or ScheduledSparkApplication (spec.suspend: true)."
)
resume = _command(False, "Resume a suspended SparkApplication or ScheduledSparkApplication.")


def _set(
    name: str,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
    output: ObjectFormat,
    *,
    value: bool,
) -> None:
    app = asyncio.run(_patch(name, namespace, kubeconfig, context, value))
    if output is ObjectFormat.JSON:
        print_json(app.view())
    elif output is ObjectFormat.YAML:
        print_yaml(app.view())
    elif output is ObjectFormat.NAME:
        typer.echo(kind_name(app.kind.value, app.name))
    else:
        verb = "suspended" if value else "resumed"
        typer.echo(f"{app.kind.value.lower()}/{app.name} {verb} in {app.namespace}")
    raise typer.Exit(EXIT_OK)


async def _patch(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None, value: bool
) -> OperatorApp:
    async with connect(kubeconfig, context) as client:
        return await set_suspend(client, namespace or client.namespace, name, value)
