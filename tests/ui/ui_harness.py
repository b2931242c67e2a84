"""Test harness: ``kubespark ui``'s server on a free port beside an emulated cluster.

The server runs in the test's event loop with the test's client, answering over real HTTP; the
helpers write what the operator would (a status through the ``/status`` subresource) when a test
runs without it, and read server-sent events as a browser's EventSource does.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from kubespark.kube.client import KubeClient
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.ui import UIOptions, UIServer

API = "/apis/sparkoperator.k8s.io/v1beta2"
CONNECTS = "/apis/sparkoperator.k8s.io/v1alpha1/namespaces/default/sparkconnects"
Obj = dict[str, Any]


@asynccontextmanager
async def running_ui(
    client: KubeClient, *, allow_actions: bool = False, namespaces: tuple[str, ...] = ()
) -> AsyncIterator[UIServer]:
    server = UIServer(client, UIOptions(port=0, allow_actions=allow_actions, namespaces=namespaces))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
        yield server
    finally:
        await server.stop()
        try:
            async with asyncio.timeout(30):
                await task
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def create(client: KubeClient, obj: Obj, plural: str = "sparkapplications") -> Obj:
    ns = obj["metadata"].get("namespace", "default")
    body = await client.send(KubeRequest("POST", f"{API}/namespaces/{ns}/{plural}", (), JSON, obj))
    assert isinstance(body, dict)
    return body


async def set_status(
    client: KubeClient, name: str, status: Obj, plural: str = "sparkapplications"
) -> None:
    """Write ``status`` as the operator would (the ``/status`` subresource)."""
    path = f"{API}/namespaces/default/{plural}/{name}"
    obj = await client.send(KubeRequest("GET", path))
    await client.send(KubeRequest("PUT", path + "/status", (), JSON, {**obj, "status": status}))


def scheduled(name: str, template: Obj, schedule: str = "@every 1h") -> Obj:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"schedule": schedule, "template": copy.deepcopy(template["spec"])},
    }


def spark_connect(name: str = "sc") -> Obj:
    """kubeflow's examples/sparkconnect/spark-connect.yaml, trimmed, with a secret in the env."""
    image = "apache/spark:4.0.1"
    server = {
        "name": "spark-kubernetes-driver",
        "image": image,
        "env": [{"name": "DB_PASSWORD", "value": "pw-very-secret-789"}],
    }
    executor = {"name": "spark-kubernetes-executor", "image": image}
    return {
        "apiVersion": "sparkoperator.k8s.io/v1alpha1",
        "kind": "SparkConnect",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "sparkVersion": "4.0.1",
            "server": {"template": {"spec": {"containers": [server]}}},
            "executor": {
                "instances": 2,
                "cores": 1,
                "memory": "512m",
                "template": {"spec": {"containers": [executor]}},
            },
        },
    }


async def wait_until(check: Any, seconds: float = 30.0, every: float = 0.1) -> Any:
    """Poll the coroutine function ``check`` until it returns something truthy."""
    async with asyncio.timeout(seconds):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(every)


async def sse_events(
    http: httpx.AsyncClient, path: str, count: int
) -> AsyncIterator[tuple[str, Any]]:
    """The first ``count`` named events of the stream at ``path`` as (event, decoded data)."""
    seen = 0
    async with http.stream("GET", path, timeout=httpx.Timeout(10, read=30)) as response:
        assert response.headers["content-type"] == "text/event-stream"
        name = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                yield name, json.loads(line.removeprefix("data: "))
                seen += 1
                name = ""
                if seen >= count:
                    return
