"""The Spark UI of a running application, found by the application's name.

Owns the rule ``status`` shows and ``ui-proxy`` forwards to: a direct submission's driver
Service (the headless ``-driver-svc`` with the UI port), else the operator's SparkApplication's
``driverInfo.webUIServiceName``; only while the driver runs, since the UI lives in the driver.
It reads; the URL itself is :mod:`kubespark.submit.sparkui`'s.
"""

from __future__ import annotations

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.submit.driverstate import DriverState
from kubespark.submit.operator_apps import ResourceKind, find_operator_app
from kubespark.submit.sparkui import UIService
from kubespark.submit.submitted_apps import find_apps

__all__ = ["running_ui"]


async def running_ui(client: KubeClient, namespace: str, name: str) -> UIService:
    """The UI Service of application ``name``; an InputError saying why there is none."""
    submitted = await find_apps(client, namespace, name)
    if submitted:
        app = submitted[0]
        state, ui = app.driver.state.value, app.ui
        running = app.driver.state is DriverState.RUNNING
    else:
        resource = await find_operator_app(client, namespace, name, ResourceKind.APPLICATION)
        if resource is None:
            raise InputError(
                f"no application {name!r} in namespace {namespace!r} on {client.server}: no "
                "kubespark submission or SparkApplication",
                where=name,
                fix="check the name and -n NAMESPACE; `kubespark list -A` lists them all",
            )
        state, ui, running = resource.state, resource.ui, resource.state == "RUNNING"
    if not running:
        raise InputError(
            f"application {name!r} is {state}: the Spark UI is served only while the driver runs",
            where=name,
            fix="`kubespark status NAME` shows when it runs (a finished application's UI is "
            "in the Spark history server, if one is set up)",
        )
    if ui is None:
        raise InputError(
            f"application {name!r} has no Service exposing the Spark UI port",
            where=name,
            fix="set spec.sparkUIOptions (the operator then creates <name>-ui-svc)",
        )
    return ui
