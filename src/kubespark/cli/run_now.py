"""``kubespark run-now``: start one run of a ScheduledSparkApplication now.

As ``kubectl create job --from=cronjob/NAME``: the run is the SparkApplication the operator would
create at the next activation (same template, label, owner and ``<name>-<unix seconds>`` naming;
:mod:`kubespark.operator.run_now`), under the schedule's concurrencyPolicy. A suspended schedule
runs too (asking is the point), as a CronJob's manual Job does. Exit codes: 0 the run was
created; 1 concurrencyPolicy Forbid and the last run is still going (nothing created); 2 no such
schedule or bad flags.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag, OutputFlag
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stderr
from kubespark.operator.run_now import ManualRun
from kubespark.operator.run_now import run_now as start_run
from kubespark.submit.submitted_apps import connect

__all__ = ["run_now"]


def run_now(
    name: Annotated[str, typer.Argument(help="the ScheduledSparkApplication")],
    namespace: NamespaceFlag = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """Start one run of a ScheduledSparkApplication now, under its concurrencyPolicy."""
    done = asyncio.run(_run(name, namespace, kubeconfig, context))
    if output is OutputFormat.JSON:
        print_json(
            {
                "scheduled": done.scheduled,
                "namespace": done.namespace,
                "run": done.run or None,
                "replaced": done.replaced or None,
                "blockedBy": done.blocked_by or None,
                "concurrencyPolicy": done.policy,
            }
        )
    elif done.started:
        if done.replaced:
            typer.echo(f"sparkapplication/{done.replaced} deleted (concurrencyPolicy Replace)")
        typer.echo(
            f"sparkapplication/{done.run} created from scheduledsparkapplication/{done.scheduled}"
            f" in {done.namespace}"
        )
    else:
        stderr().print(
            f"no run started: concurrencyPolicy Forbid and run {done.blocked_by} is still going; "
            f"wait for it (kubespark status {done.blocked_by}) or delete it",
            highlight=False,
            markup=False,
        )
    raise typer.Exit(EXIT_OK if done.started else EXIT_FINDING)


async def _run(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> ManualRun:
    async with connect(kubeconfig, context) as client:
        return await start_run(client, namespace or client.namespace, name)
