"""A real HTTP server on a pod's address, standing in for what runs in the pod (a driver's UI).

On the process kubelet every pod has a loopback address of its own (127.1.x.y); the emulator's
service and pod proxies reach whatever listens there. Tests that check those proxies, from the
API server's side or the dashboard's, serve their pages through this one harness.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def http_server_on(ip: str, routes: Iterable[web.AbstractRouteDef]) -> AsyncIterator[int]:
    """Serve ``routes`` on ``ip`` at a free port until the block ends; yields the port."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, ip, 0).start()
        (_, port, *_), *_ = runner.addresses
        yield int(port)
    finally:
        await runner.cleanup()
