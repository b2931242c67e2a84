"""``kubespark events``: the Events about an application, whoever runs it.

For a submission, the Events of its driver pod and executors; for the operator's
SparkApplication, those of the resource (the operator's: submitted, running, failed...) and of
its driver pod; for a ScheduledSparkApplication, the schedule's. Oldest first, as a table or
JSON/YAML. Exit codes: 0; 2 no such application (or bad flags).
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any

import typer
import yaml

from kubespark.cli.flags import AppName, ContextFlag, KubeconfigFlag, NamespaceFlag
from kubespark.cli.output import EXIT_OK, print_json
from kubespark.errors import InputError
from kubespark.submit.operator_apps import event_line, events_about, find_operator_app
from kubespark.submit.submitted_apps import connect, find_app

__all__ = ["events"]


class EventsFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    YAML = "yaml"


def events(
    name: AppName,
    namespace: NamespaceFlag = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: Annotated[EventsFormat, typer.Option("-o", "--output")] = EventsFormat.TEXT,
) -> None:
    """Show the Events about an application: its driver, executors and operator resource."""
    found = asyncio.run(_events(name, namespace, kubeconfig, context))
    if output is EventsFormat.JSON:
        print_json({"items": found})
    elif output is EventsFormat.YAML:
        typer.echo(yaml.safe_dump({"items": found}, sort_keys=False), nl=False)
    elif not found:
        typer.echo(f"no events about {name}")
    else:
        for event in found:
            about = event.get("involvedObject") or {}
            typer.echo(f"{about.get('kind', '')}/{about.get('name', '')}  {event_line(event)}")
    raise typer.Exit(EXIT_OK)


async def _events(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> list[dict[str, Any]]:
    async with connect(kubeconfig, context) as client:
        where = namespace or client.namespace
        try:
            app = await find_app(client, where, name)
            objects = {("Pod", app.driver.pod_name), *(("Pod", e.name) for e in app.executors)}
        except InputError:
            resource = await find_operator_app(client, where, name)
            if resource is None:
                raise InputError(
                    f"no application {name!r} in namespace {where!r} on {client.server}",
                    where=name,
                    fix="check the name and -n NAMESPACE; `kubespark list -A` lists them all",
                ) from None
            objects = {(resource.kind.value, name)}
            if resource.driver_pod:
                objects.add(("Pod", resource.driver_pod))
        return await events_about(client, where, objects)
