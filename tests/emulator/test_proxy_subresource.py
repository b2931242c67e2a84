"""services/NAME/proxy and pods/NAME/proxy: requests forwarded to what listens in the pod.

The process kubelet gives pods loopback addresses (127.1.x.y); a real HTTP server (aiohttp)
bound to a pod's address stands in for the program in the pod, so the proxy makes a real
connection. The simulated kubelet's pods run nothing: the proxy answers as apiserver does when
the endpoint refuses.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from emu_helpers import Served, eventually, pod

from kubespark.emulator.testing import RunningEmulator

Serve = Callable[..., AbstractAsyncContextManager[Served]]
NS = "/api/v1/namespaces/default"
KUBECTL = shutil.which("kubectl")

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


async def _running_pod(client: httpx.AsyncClient, name: str) -> str:
    assert (await client.post(f"{NS}/pods", json=pod(name))).status_code == 201
    got = await eventually(
        client,
        f"{NS}/pods/{name}",
        lambda r: (
            r.json().get("status", {}).get("phase") == "Running"
            and bool(r.json()["status"].get("podIP"))
        ),
    )
    return str(got.json()["status"]["podIP"])


def _service(name: str, port: int, target: int, port_name: str = "") -> dict[str, Any]:
    spec_port: dict[str, Any] = {"port": port, "targetPort": target}
    if port_name:
        spec_port["name"] = port_name
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [spec_port]},
    }


async def _ready_endpoints(client: httpx.AsyncClient, name: str) -> None:
    await eventually(
        client,
        f"{NS}/endpoints/{name}",
        lambda r: (
            r.status_code == 200 and any(s.get("addresses") for s in r.json().get("subsets") or [])
        ),
    )


async def test_service_and_pod_proxy_forward_to_the_pod(serve: Serve) -> None:
    async with serve("1.29", kubelet="process") as (_, client):
        ip = await _running_pod(client, "web")
        assert ip.startswith("127.1.")
        async with listening(ip) as port:
            svc = _service("web", 4040, port, port_name="spark-ui")
            assert (await client.post(f"{NS}/services", json=svc)).status_code == 201
            await _ready_endpoints(client, "web")
            for target in ("web:4040", "web:spark-ui", "http:web:4040"):
                answer = await client.post(
                    f"{NS}/services/{target}/proxy/api/v1/apps?status=running",
                    content=b"payload",
                    headers={"Authorization": "Bearer secret", "X-Test": "kept"},
                )
                assert answer.status_code == 200, answer.text
                echoed = answer.json()
                assert echoed["method"] == "POST"
                assert echoed["path"] == "/api/v1/apps"
                assert echoed["query"] == {"status": "running"}
                assert echoed["body"] == "payload"
                assert echoed["header"] == "kept"
                assert echoed["authorization"] is None  # apiserver keeps the caller's token
            by_pod = await client.delete(f"{NS}/pods/web:{port}/proxy/x/y")
            assert by_pod.status_code == 200 and by_pod.json()["method"] == "DELETE"
            assert by_pod.json()["path"] == "/x/y"


async def test_links_and_redirects_stay_under_the_proxy_path(serve: Serve) -> None:
    async with serve("1.29", kubelet="process") as (_, client):
        ip = await _running_pod(client, "ui")
        async with listening(ip) as port:
            base = f"{NS}/pods/ui:{port}/proxy"
            root = await client.get(base)
            assert root.status_code == 301 and root.headers["location"] == base + "/"
            html = (await client.get(f"{base}/page")).text
            assert f"href='{base}/static/ui.css'" in html
            assert f'src="{base}/static/ui.js"' in html
            assert f'<a href="{base}/jobs/">' in html
            assert 'href="stages/"' in html and 'href="http://example.com/x"' in html
            assert '"<a href=/not-a-link>"' in html and '<a href="/comment">' in html
            moved = await client.get(f"{base}/moved")
            assert moved.status_code == 302 and moved.headers["location"] == f"{base}/jobs/"


async def test_nothing_listening_is_a_refused_dial(serve: Serve) -> None:
    async with serve("1.29", kubelet="process") as (_, client):
        ip = await _running_pod(client, "quiet")
        async with listening(ip) as port:
            pass  # the port was free a moment ago and nothing listens on it now
        answer = await client.get(f"{NS}/pods/quiet:{port}/proxy/")
        assert answer.status_code == 503
        assert answer.json()["reason"] == "ServiceUnavailable"
        assert answer.json()["message"] == (
            f"error trying to reach service: dial tcp {ip}:{port}: connect: connection refused"
        )


async def test_simulated_pods_refuse_and_services_say_what_is_missing(serve: Serve) -> None:
    async with serve("1.19") as (_, client):
        ip = await _running_pod(client, "driver")
        lonely = _service("lonely", 80, 8080)
        lonely["spec"]["selector"] = {"app": "nobody"}
        for svc in (_service("driver", 4040, 4040, "spark-ui"), lonely):
            assert (await client.post(f"{NS}/services", json=svc)).status_code == 201
        await _ready_endpoints(client, "driver")
        refused = await client.get(f"{NS}/services/driver:4040/proxy/")
        assert refused.status_code == 503
        assert refused.json()["message"] == (
            f"error trying to reach service: dial tcp {ip}:4040: connect: connection refused"
        )
        cases = {
            f"{NS}/services/driver:9999/proxy/": (
                503,
                'no service port 9999 found for service "driver"',
            ),
            f"{NS}/services/driver:other/proxy/": (
                503,
                'no endpoints available for service "driver:other"',
            ),
            f"{NS}/services/lonely:80/proxy/": (503, 'no endpoints available for service "lonely"'),
            f"{NS}/services/missing:80/proxy/": (404, 'services "missing" not found'),
            f"{NS}/pods/missing/proxy/": (404, 'pods "missing" not found'),
            f"{NS}/services/ftp:driver:4040/proxy/": (
                400,
                'invalid service request "ftp:driver:4040"',
            ),
        }
        for path, (code, message) in cases.items():
            answer = await client.get(path)
            assert (answer.status_code, answer.json()["message"]) == (code, message), path


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_get_raw_through_the_service_proxy(
    emulator_factory: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    assert KUBECTL is not None
    emu = emulator_factory("1.29", kubelet="process")

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [KUBECTL, "--kubeconfig", str(emu.kubeconfig_path), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)

    async def scenario() -> tuple[str, subprocess.CompletedProcess[str]]:
        async with httpx.AsyncClient(base_url=emu.url, timeout=10) as client:
            ip = await _running_pod(client, "spark")
            async with listening(ip) as port:
                svc = _service("spark", 4040, port)
                assert (await client.post(f"{NS}/services", json=svc)).status_code == 201
                await _ready_endpoints(client, "spark")
                raw = f"{NS}/services/spark:4040/proxy/api/v1/applications"
                done = await asyncio.to_thread(kubectl, "get", "--raw", raw)
                refused = await asyncio.to_thread(
                    kubectl, "get", "--raw", f"{NS}/pods/spark:1/proxy/"
                )
                return done.stdout, refused

    out, refused = asyncio.run(scenario())
    assert '"path": "/api/v1/applications"' in out or '"path":"/api/v1/applications"' in out
    assert refused.returncode == 1
    assert "Error from server (ServiceUnavailable)" in refused.stderr
