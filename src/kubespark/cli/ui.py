"""``kubespark ui``: serve the dashboard of the cluster's Spark applications until Ctrl-C.

Parses the flags (kubeconfig and context as every command, ``--listen``, ``-n`` to watch named
namespaces, ``--allow-actions``), starts :class:`kubespark.ui.UIServer` and prints its address.
Exit codes: 0 after Ctrl-C or SIGTERM, 2 for bad flags (a taken port, an unreadable kubeconfig).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, WatchedNamespacesFlag
from kubespark.cli.output import EXIT_OK, stdout
from kubespark.cli.serving import until_interrupted
from kubespark.submit.submitted_apps import connect
from kubespark.ui import UIOptions, UIServer, parse_listen

__all__ = ["ui"]


def ui(
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to serve on (port 0: any free port)")
    ] = "127.0.0.1:8080",
    namespace: WatchedNamespacesFlag = None,
    allow_actions: Annotated[
        bool,
        typer.Option(
            "--allow-actions",
            help="offer delete, suspend/resume, run now and rerun (with your credentials)",
        ),
    ] = False,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
) -> None:
    """Serve a dashboard of the cluster's Spark applications: states, why they wait or failed."""
    host, port = parse_listen(listen)
    options = UIOptions(
        host=host, port=port, allow_actions=allow_actions, namespaces=tuple(namespace or ())
    )
    asyncio.run(_serve(options, kubeconfig, context))
    raise typer.Exit(EXIT_OK)


async def _serve(options: UIOptions, kubeconfig: str | None, context: str | None) -> None:
    async with connect(kubeconfig, context) as client:
        server = UIServer(client, options)
        server.bind()  # a taken port is a message now, before the cache fills

        def ready(url: str) -> None:
            mode = "actions on" if options.allow_actions else "read-only"
            stdout().print(
                f"[bold]kubespark ui[/] ({mode}) for {client.server}: {url}", highlight=False
            )
            stdout().print("Ctrl-C stops it.")

        serving = asyncio.create_task(server.serve(ready))
        try:
            stop = asyncio.create_task(until_interrupted())
            await asyncio.wait({serving, stop}, return_when=asyncio.FIRST_COMPLETED)
            if serving.done():
                serving.result()  # a failure while serving: raised here
        finally:
            await server.stop()
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            stop.cancel()
