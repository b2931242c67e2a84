"""``kubespark ui-proxy``'s forward through the emulator's services/NAME/proxy to a UI in a pod.

A browser's request to the local forward goes to the API server's service proxy with the
kubeconfig's credentials, the API server to the pod (the process kubelet gives pods loopback
addresses, and a real HTTP server on one stands in for the Spark driver's UI), and the page's
absolute links, rewritten by the API server under the proxy path, lead back through the forward.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from aiohttp import web
from emu_helpers import Served, eventually, pod

from kubespark.kube.config import load_connection
from kubespark.proxy.uiforward import forward_ui
from kubespark.submit.sparkui import UIService
from pod_http import http_server_on

Serve = Callable[..., AbstractAsyncContextManager[Served]]
NS = "/api/v1/namespaces/default"
JOBS = b'<html><body><a href="/jobs/job/?id=0">job 0</a></body></html>'


async def _root(_: web.Request) -> web.Response:
    raise web.HTTPFound("/jobs/")


async def _jobs(_: web.Request) -> web.Response:
    return web.Response(body=JOBS, content_type="text/html")


async def _job(request: web.Request) -> web.Response:
    return web.json_response({"id": request.query.get("id"), "path": request.path})


# What a driver's UI does on the pod's address: pages with absolute links, a redirect.
SPARK_UI = [web.get("/", _root), web.get("/jobs/", _jobs), web.get("/jobs/job/", _job)]


async def test_a_browser_reaches_the_ui_through_the_forward(serve: Serve) -> None:
    async with serve("1.29", kubelet="process") as (emu, client):
        assert (await client.post(f"{NS}/pods", json=pod("driver"))).status_code == 201
        running = await eventually(
            client, f"{NS}/pods/driver", lambda r: bool(r.json().get("status", {}).get("podIP"))
        )
        ip = running.json()["status"]["podIP"]
        async with http_server_on(ip, SPARK_UI) as port:
            service = {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "pi-driver-svc"},
                "spec": {
                    "selector": {"app": "driver"},
                    "ports": [{"name": "spark-ui", "port": 4040, "targetPort": port}],
                },
            }
            assert (await client.post(f"{NS}/services", json=service)).status_code == 201
            await eventually(
                client,
                f"{NS}/endpoints/pi-driver-svc",
                lambda r: r.status_code == 200 and bool(r.json().get("subsets")),
            )
            ui = UIService("default", "pi-driver-svc", 4040)
            connection = load_connection(emu.kubeconfig_path)
            async with (
                forward_ui(connection, ui.proxy_path()) as (_, url),
                httpx.AsyncClient(base_url=url, timeout=10, follow_redirects=True) as browser,
            ):
                page = await browser.get("/")
                assert page.status_code == 200, page.text
                # The UI's redirect and its absolute link come back under the proxy path,
                # relative to this forward: the browser stays on 127.0.0.1.
                assert str(page.url) == url.rstrip("/") + ui.proxy_path() + "jobs/"
                link = f'href="{ui.proxy_path()}jobs/job/?id=0"'
                assert link in page.text
                job = await browser.get(f"{ui.proxy_path()}jobs/job/", params={"id": "0"})
                assert job.json() == {"id": "0", "path": "/jobs/job/"}
                direct = await browser.get("/jobs/job/?id=0")
                assert direct.json() == job.json()
