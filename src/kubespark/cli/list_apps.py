"""``kubespark list``: the applications ``kubespark submit`` created, with their state.

Lists driver pods labelled ``kubespark.io/submitted-by=cli`` in one namespace or all (``-A``),
with their executors, as a table or JSON. No CRD is involved. Exit code 0 (2 for bad flags).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag, OutputFlag
from kubespark.cli.output import EXIT_OK, OutputFormat, print_json, stdout
from kubespark.errors import InputError
from kubespark.submit.submitted_apps import SubmittedApp, age, connect, find_apps

__all__ = ["list_apps", "render_list"]


def list_apps(
    namespace: NamespaceFlag = None,
    all_namespaces: Annotated[
        bool, typer.Option("-A", "--all-namespaces", help="every namespace")
    ] = False,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """List applications submitted by kubespark, newest first."""
    if all_namespaces and namespace:
        raise InputError(
            "-A lists every namespace; -n names one",
            where="-A/--all-namespaces",
            fix="give one of -A and -n",
        )
    apps = asyncio.run(
        _list(None if all_namespaces else namespace, all_namespaces, kubeconfig, context)
    )
    if output is OutputFormat.JSON:
        print_json({"items": [a.view() for a in apps]})
    else:
        render_list(stdout(), apps)
    raise typer.Exit(EXIT_OK)


async def _list(
    namespace: str | None, everywhere: bool, kubeconfig: str | None, context: str | None
) -> list[SubmittedApp]:
    async with connect(kubeconfig, context) as client:
        return await find_apps(client, None if everywhere else namespace or client.namespace)


def render_list(console: Console, apps: list[SubmittedApp]) -> None:
    if not apps:
        console.print("no applications submitted by kubespark here")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("NAMESPACE", "NAME", "STATE", "EXECUTORS", "SPARK", "DRIVER POD", "AGE"):
        table.add_column(column)
    for app in apps:
        counts = app.executor_counts()
        running = sum(n for s, n in counts.items() if s.value == "RUNNING")
        table.add_row(
            app.namespace,
            app.name,
            app.state_text(),
            f"{running}/{len(app.executors)}",
            app.spark_version,
            app.driver.pod_name,
            age(app.created),
        )
    console.print(table, highlight=False)
