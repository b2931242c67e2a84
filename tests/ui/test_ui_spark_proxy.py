"""The Spark UI through the API server's service proxy, as the dashboard links it.

On the process kubelet a pod has a loopback address of its own (127.1.x.y); a real HTTP server
bound to it stands in for a running driver's UI, behind a Service as spark-submit makes one. The
dashboard's ``/spark-ui/NS/SERVICE:PORT/...`` relays through the API server's
``services/NAME:PORT/proxy/...`` with the user's credentials, links in the page kept under its
own prefix, and passes on the API server's refusals (no endpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from aiohttp import web
from operator_harness import running_cluster
from ui_harness import running_ui, wait_until

from kubespark.kube.client import KubeClient
from kubespark.kube.requests import JSON, KubeRequest
from pod_http import http_server_on

NS = "/api/v1/namespaces/default"
PAGE = b'<html><title>Spark Jobs</title><a href="/stages/">Stages</a></html>'


async def _page(request: web.Request) -> web.Response:
    """Any path: the page, its path appended (so a test sees which path arrived)."""
    return web.Response(body=PAGE + request.path.encode(), content_type="text/html")


async def _pod_ip(client: KubeClient) -> str:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "ui-driver", "labels": {"app": "ui"}},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }
    await client.send(KubeRequest("POST", f"{NS}/pods", (), JSON, pod))

    async def address() -> str:
        got = await client.send(KubeRequest("GET", f"{NS}/pods/ui-driver"))
        status = got.get("status") or {}
        return str(status.get("podIP") or "") if status.get("phase") == "Running" else ""

    return str(await wait_until(address))


async def _service(client: KubeClient, name: str, app: str, target: int) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app": app},
            "ports": [{"name": "spark-driver-ui-port", "port": 4040, "targetPort": target}],
        },
    }
    await client.send(KubeRequest("POST", f"{NS}/services", (), JSON, service))


async def test_the_dashboard_relays_the_spark_ui_through_the_service_proxy(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(
        emulator_factory, "1.29", operator=False, emulator={"kubelet": "process"}
    ) as cluster:
        client = cluster.client
        ip = await _pod_ip(client)
        async with http_server_on(ip, [web.route("GET", "/{tail:.*}", _page)]) as port:
            await _service(client, "ui-svc", "ui", port)
            await _service(client, "nobody", "none", port)
            async with running_ui(client) as ui, httpx.AsyncClient(base_url=ui.url) as http:

                async def served() -> httpx.Response | None:
                    got = await http.get("/spark-ui/default/ui-svc:4040/jobs/")
                    return got if got.status_code == 200 else None  # endpoints are ready

                page = await wait_until(served)
                assert page.headers["content-type"].startswith("text/html")
                assert b"<title>Spark Jobs</title>" in page.content
                assert page.content.endswith(b"/jobs/")
                # The API server keeps links under its proxy path; the dashboard under its own.
                assert b'href="/spark-ui/default/ui-svc:4040/stages/"' in page.content
                refused = await http.get("/spark-ui/default/nobody:4040/")
                assert refused.status_code == 503
                assert b"no endpoints available" in refused.content
                missing = await http.get("/spark-ui/default/missing:4040/")
                assert missing.status_code == 404
