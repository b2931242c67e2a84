"""``kubespark list``: every Spark application in a namespace, whoever runs it, with its state.

Lists the applications ``kubespark submit`` created (driver pods labelled
``kubespark.io/submitted-by=cli``, with their executors) beside the operator's SparkApplications
and ScheduledSparkApplications, in one namespace (the context's by default, named in the output)
or all (``-A``), filtered by ``-l``; as a table (``-o wide`` adds the driver pod), JSON, YAML or
``kind/name`` lines. Exit code 0 (2 for bad flags).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag, ObjectOutputFlag
from kubespark.cli.output import EXIT_OK, ObjectFormat, kind_name, print_json, print_yaml
from kubespark.errors import InputError
from kubespark.submit.operator_apps import OperatorApp, ResourceKind, find_operator_apps
from kubespark.submit.submitted_apps import SubmittedApp, age, connect, find_apps

__all__ = ["DIRECT", "ListFormat", "list_apps", "render_list"]

DIRECT = "Submission"  # the kind of an application `kubespark submit` wrote
# The table's KIND column: the CRDs' short names, so a row fits 80 columns.
SHORT = {
    DIRECT: "submission",
    "SparkApplication": "sparkapp",
    "ScheduledSparkApplication": "scheduledsparkapp",
    "SparkConnect": "sparkconnect",
}


ListFormat = ObjectFormat  # the -o formats of a list are those of every object view


@dataclass(frozen=True)
class Found:
    """What ``list`` found, and where it looked (None: every namespace)."""

    namespace: str | None
    submitted: list[SubmittedApp]
    operator: list[OperatorApp]

    def items(self) -> list[dict[str, Any]]:
        direct = [{"kind": DIRECT, **a.view()} for a in self.submitted]
        return sorted(
            [*direct, *(a.view() for a in self.operator)],
            key=lambda v: (str(v.get("created", "")), v["namespace"], v["name"]),
            reverse=True,
        )


def list_apps(
    namespace: NamespaceFlag = None,
    all_namespaces: Annotated[
        bool, typer.Option("-A", "--all-namespaces", help="every namespace")
    ] = False,
    selector: Annotated[
        str | None,
        typer.Option("-l", "--selector", help="label selector, e.g. team=data,tier!=dev"),
    ] = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: ObjectOutputFlag = ObjectFormat.TEXT,
) -> None:
    """List Spark applications: kubespark's submissions and the operator's, newest first."""
    if all_namespaces and namespace:
        raise InputError(
            "-A lists every namespace; -n names one",
            where="-A/--all-namespaces",
            fix="give one of -A and -n",
        )
    found = asyncio.run(
        _list(
            None if all_namespaces else namespace,
            all_namespaces,
            selector or "",
            kubeconfig,
            context,
        )
    )
    if output is ListFormat.JSON:
        print_json({"namespace": found.namespace, "items": found.items()})
    elif output is ListFormat.YAML:
        print_yaml({"namespace": found.namespace, "items": found.items()})
    elif output is ListFormat.NAME:
        for item in found.items():
            typer.echo(kind_name(item["kind"], item["name"]))
    else:
        # As kubectl: rows are never wrapped or cut to the terminal; a pager or the shell folds.
        render_list(Console(soft_wrap=True, width=4096), found, wide=output is ListFormat.WIDE)
    raise typer.Exit(EXIT_OK)


async def _list(
    namespace: str | None,
    everywhere: bool,
    selector: str,
    kubeconfig: str | None,
    context: str | None,
) -> Found:
    async with connect(kubeconfig, context) as client:
        where = None if everywhere else namespace or client.namespace
        submitted, operator = await asyncio.gather(
            find_apps(client, where), find_operator_apps(client, where, selector)
        )
    matches = label_matcher(selector)
    return Found(where, [a for a in submitted if matches(a.labels)], operator)


def label_matcher(selector: str) -> Callable[[Mapping[str, str]], bool]:
    """An equality-based label selector (``a=b``, ``a!=b``, ``a``, ``!a``) as a predicate."""
    terms = [t.strip() for t in selector.split(",") if t.strip()]

    def matches(labels: Mapping[str, str]) -> bool:
        for term in terms:
            if "!=" in term:
                key, value = (s.strip() for s in term.split("!=", 1))
                if labels.get(key) == value:
                    return False
            elif "=" in term:
                key, value = (s.strip() for s in term.split("=", 1))
                if labels.get(key.rstrip("=")) != value:
                    return False
            elif term.startswith("!"):
                if term[1:] in labels:
                    return False
            elif term not in labels:
                return False
        return True

    return matches


def render_list(console: Console, found: Found, *, wide: bool = False) -> None:
    where = "any namespace" if found.namespace is None else f"namespace {found.namespace}"
    if not found.submitted and not found.operator:
        console.print(f"no Spark applications in {where}", highlight=False)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = ["NAMESPACE", "NAME", "KIND", "STATE", "ATTEMPTS", "EXECUTORS", "SPARK", "AGE"]
    for column in [*columns, *(["DRIVER POD"] if wide else [])]:
        table.add_column(column)
    rows = [(_submitted_row(a), a.created) for a in found.submitted]
    rows += [(_operator_row(a), a.created) for a in found.operator]
    for row, _ in sorted(rows, key=lambda r: r[1], reverse=True):
        table.add_row(*(row if wide else row[:-1]))
    console.print(table, highlight=False)


def _submitted_row(app: SubmittedApp) -> list[str]:
    counts = app.executor_counts()
    running = sum(n for s, n in counts.items() if s.value == "RUNNING")
    return [
        app.namespace,
        app.name,
        SHORT[DIRECT],
        app.state_text(),
        "1/1",
        f"{running}/{len(app.executors)}",
        app.spark_version,
        age(app.created),
        app.driver.pod_name,
    ]


def _operator_row(app: OperatorApp) -> list[str]:
    state = (
        f"{app.state} (suspended)" if app.suspended and "SUSPEND" not in app.state else app.state
    )
    executors = {
        ResourceKind.APPLICATION: str(len(app.executors)),
        ResourceKind.SCHEDULED: "",
        # A Connect server's executors by phase: running of all.
        ResourceKind.CONNECT: _connect_executors(app.executors),
    }[app.kind]
    return [
        app.namespace,
        app.name,
        SHORT[app.kind.value],
        state,
        app.attempts,
        executors,
        app.spark_version,
        age(app.created) if app.created else "",
        app.driver_pod,
    ]


def _connect_executors(counts: dict[str, str]) -> str:
    total = sum(int(n) for n in counts.values() if n.isdigit())
    running = counts.get("running", "0")
    return f"{running}/{total}" if total else ""
