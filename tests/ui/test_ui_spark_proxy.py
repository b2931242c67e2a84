"""The Spark UI through the API server's service proxy, as the dashboard links it.

The emulator's ``services/NAME:PORT/proxy/PATH`` relays to a ready pod the Service selects (here a
real HTTP server on 127.0.0.1 standing in for a driver's UI: the pod's IP is set to it), with the
API server's answers when it cannot (no endpoints, nothing listening); the dashboard's
``/spark-ui/NS/SERVICE:PORT/...`` relays through it with the user's credentials.
"""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from operator_harness import running_cluster
from ui_harness import running_ui, wait_until

from kubespark.kube.client import KubeClient
from kubespark.kube.requests import JSON, KubeRequest

PAGE = b"<html><title>Spark Jobs</title>fake driver UI</html>"


class _SparkUI(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def spark_ui() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SparkUI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


async def _driver_listening_on(client: KubeClient, port: int) -> None:
    """A pod, Running and Ready, whose pod IP is the local UI server (a driver stand-in)."""
    pods = "/api/v1/namespaces/default/pods"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "ui-driver", "labels": {"app": "ui"}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "apache/spark"}]},
    }
    await client.send(KubeRequest("POST", pods, (), JSON, pod))

    async def ready() -> dict[str, Any] | None:
        got = await client.send(KubeRequest("GET", f"{pods}/ui-driver"))
        conditions = (got.get("status") or {}).get("conditions") or []
        is_ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        return got if is_ready else None

    got = await wait_until(ready)
    got["status"] = {**got["status"], "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]}
    await client.send(KubeRequest("PUT", f"{pods}/ui-driver/status", (), JSON, got))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ui-svc"},
        "spec": {
            "selector": {"app": "ui"},
            "ports": [{"name": "spark-driver-ui-port", "port": 4040, "targetPort": port}],
        },
    }
    await client.send(KubeRequest("POST", "/api/v1/namespaces/default/services", (), JSON, service))
    empty = {**service, "metadata": {"name": "nobody"}, "spec": {**service["spec"]}}
    empty["spec"]["selector"] = {"app": "none"}
    await client.send(KubeRequest("POST", "/api/v1/namespaces/default/services", (), JSON, empty))


async def test_the_service_proxy_relays_to_the_driver_and_the_dashboard_through_it(
    emulator_factory: Callable[..., Any], spark_ui: int
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        await _driver_listening_on(client, spark_ui)
        base = "/api/v1/namespaces/default/services"
        code, content_type, body = await client.fetch_raw(
            KubeRequest("GET", f"{base}/ui-svc:4040/proxy/jobs/", (("x", "1"),))
        )
        assert (code, content_type.split(";")[0]) == (200, "text/html"), body
        assert body == PAGE + b"/jobs/?x=1"
        by_name = await client.fetch_raw(
            KubeRequest("GET", f"{base}/ui-svc:spark-driver-ui-port/proxy/")
        )
        assert by_name[0] == 200
        code, _, body = await client.fetch_raw(KubeRequest("GET", f"{base}/nobody/proxy/"))
        assert code == 503 and b'no endpoints available for service \\"nobody\\"' in body
        code, _, _ = await client.fetch_raw(KubeRequest("GET", f"{base}/missing/proxy/"))
        assert code == 404
        async with running_ui(client) as ui, httpx.AsyncClient(base_url=ui.url) as http:
            page = await http.get("/spark-ui/default/ui-svc:4040/stages/")
            assert page.status_code == 200 and page.content == PAGE + b"/stages/"
            refused = await http.get("/spark-ui/default/nobody:4040/")
            assert refused.status_code == 503


async def test_nothing_listening_is_the_api_servers_503(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        await _driver_listening_on(client, 9)  # port 9 (discard): nothing listens on it here
        code, _, body = await asyncio.wait_for(
            client.fetch_raw(
                KubeRequest("GET", "/api/v1/namespaces/default/services/ui-svc/proxy/")
            ),
            30,
        )
        assert code == 503 and b"error trying to reach service: dial tcp 127.0.0.1:9" in body
