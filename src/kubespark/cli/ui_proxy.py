"""``kubespark ui-proxy``: the Spark UI of a running application on a local port, no token needed.

Finds the UI Service as ``status`` does (:mod:`kubespark.submit.app_ui`) and listens on a
loopback address (:mod:`kubespark.proxy.uiforward`): every request goes to the API server's
service proxy with the kubeconfig's credentials, as ``kubectl proxy`` sends them, so a browser
opens ``http://127.0.0.1:PORT/`` and needs no port-forward, Ingress or token. Runs until
interrupted (Ctrl-C, or SIGTERM); ``--open`` opens the browser. Only loopback addresses:
whoever reaches the port acts with the kubeconfig's credentials on that Service. Exit codes:
0 stopped; 2 no such application, no UI (the driver is not running), or bad flags.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import webbrowser
from typing import Annotated

import typer

from kubespark.cli.flags import AppName, ContextFlag, KubeconfigFlag, NamespaceFlag
from kubespark.cli.output import EXIT_OK
from kubespark.errors import InputError
from kubespark.kube.config import load_connection
from kubespark.proxy.uiforward import forward_ui
from kubespark.submit.app_ui import running_ui
from kubespark.submit.sparkui import UIService
from kubespark.submit.submitted_apps import connect

__all__ = ["ui_proxy"]


def ui_proxy(
    name: AppName,
    namespace: NamespaceFlag = None,
    port: Annotated[int, typer.Option("--port", help="local port (0: any free one)")] = 0,
    address: Annotated[
        str, typer.Option("--address", help="local loopback address to listen on")
    ] = "127.0.0.1",
    open_browser: Annotated[
        bool, typer.Option("--open", help="open the UI in the default browser")
    ] = False,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
) -> None:
    """Serve a running application's Spark UI on a local port, through the API server."""
    _loopback(address)
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} is not a port", where="--port", fix="give 0 to 65535")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(name, namespace, address, port, open_browser, kubeconfig, context))
    raise typer.Exit(EXIT_OK)


def _loopback(address: str) -> None:
    try:
        loopback = address == "localhost" or ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InputError(
            f"--address {address} is not a loopback address",
            where="--address",
            fix="use 127.0.0.1, ::1 or localhost: whoever reaches the port acts with your "
            "kubeconfig's credentials",
        )


async def _serve(
    name: str,
    namespace: str | None,
    address: str,
    port: int,
    open_browser: bool,
    kubeconfig: str | None,
    context: str | None,
) -> None:
    ui = await _find(name, namespace, kubeconfig, context)
    connection = load_connection(kubeconfig, context)
    async with forward_ui(connection, ui.proxy_path(), address=address, port=port) as (_, url):
        typer.echo(f"Forwarding from {url} -> {ui.url(connection.server)}")
        typer.echo("Handling connections; Ctrl-C stops.")
        if open_browser:
            webbrowser.open(url)
        await _until_stopped()


async def _until_stopped() -> None:
    """Until SIGINT (Ctrl-C) or SIGTERM, as kubectl port-forward; handled here, not inherited
    (a process started with SIGINT ignored, as under some supervisors, still stops on it)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _find(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> UIService:
    async with connect(kubeconfig, context) as client:
        return await running_ui(client, namespace or client.namespace, name)
