"""Object builders and small helpers shared by the emulator's tests."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from aiohttp import web

from kubespark.emulator import Emulator
from kubespark.emulator.testing import RunningEmulator

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Api

# An emulator and an HTTP client of it, as the fixtures in conftest.py yield them.
Served = tuple[Emulator, httpx.AsyncClient]

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def kubectl_command(emu: RunningEmulator, tmp: Path, *args: str) -> list[str]:
    """kubectl's command line against ``emu``, its discovery cache under ``tmp``."""
    assert KUBECTL is not None
    cache = str(tmp / "kubectl-cache")
    return [KUBECTL, "--kubeconfig", str(emu.kubeconfig_path), "--cache-dir", cache, *args]


def kubectl(
    emu: RunningEmulator, tmp: Path, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run kubectl against ``emu``; unless ``check`` is off, a failure fails the test."""
    cmd = kubectl_command(emu, tmp, *args)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=90, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
    return proc


def pod(name: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}, "annotations": annotations},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }


def configmap(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"k": "v"},
    }


async def eventually(
    client: httpx.AsyncClient,
    path: str,
    check: Callable[[httpx.Response], bool],
    seconds: float = 10.0,
) -> httpx.Response:
    """GET ``path`` until ``check`` holds (bounded), returning the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        resp = await client.get(path)
        if check(resp) or loop.time() > deadline:
            return resp
        await asyncio.sleep(0.02)


def phase(resp: httpx.Response) -> str:
    return (
        str(((resp.json() or {}).get("status") or {}).get("phase", "")) if resp.is_success else ""
    )


def kubectl_get(emu: RunningEmulator, tmp: Path, *args: str) -> Any:
    """``kubectl get ARGS -o json``, decoded."""
    return json.loads(kubectl(emu, tmp, "get", *args, "-o", "json").stdout)


# --- a program listening in a pod (the process kubelet gives pods loopback addresses) ---------
PAGE = (
    b"<html><head><link rel=stylesheet href='/static/ui.css'>"
    b'<script src="/static/ui.js">var a = "<a href=/not-a-link>";</script></head>'
    b'<body><a href="/jobs/">Jobs</a> <a href="stages/">relative</a> '
    b'<a href="http://example.com/x">elsewhere</a><!-- <a href="/comment"> --></body></html>'
)


def _app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "body": (await request.read()).decode(),
                "authorization": request.headers.get("Authorization"),
                "header": request.headers.get("X-Test"),
            }
        )

    async def page(_: web.Request) -> web.Response:
        return web.Response(body=PAGE, content_type="text/html")

    async def moved(_: web.Request) -> web.Response:
        raise web.HTTPFound("/jobs/")

    app = web.Application()
    app.router.add_route("GET", "/page", page)
    app.router.add_route("GET", "/moved", moved)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


@asynccontextmanager
async def listening(ip: str) -> AsyncIterator[int]:
    """An HTTP server on the pod's address (as the pod's program would be); yields its port."""
    runner = web.AppRunner(_app())
    await runner.setup()
    site = web.TCPSite(runner, ip, 0)
    await site.start()
    try:
        server = site._server
        assert server is not None and server.sockets
        yield int(server.sockets[0].getsockname()[1])
    finally:
        await runner.cleanup()


def running_pod(api: CoreV1Api, body: dict[str, Any]) -> str:
    """Create ``body`` in ``default`` with the official client; the pod's IP once it runs."""
    name = body["metadata"]["name"]
    api.create_namespaced_pod("default", body)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = api.read_namespaced_pod(name, "default")
        if got.status.phase == "Running" and got.status.pod_ip:
            return str(got.status.pod_ip)
        time.sleep(0.05)
    raise AssertionError(f"pod {name} never ran")
