"""Which applications an operator takes: a list of namespaces, or a namespace label selector."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from operator_harness import running_cluster, spark_pi, start_operator, state_of

from kubespark.kube.requests import JSON, KubeRequest


async def _namespace(cluster: Any, name: str, labels: dict[str, str]) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    await cluster.client.send(KubeRequest("POST", "/api/v1/namespaces", (), JSON, body))
    for _ in range(50):  # the emulated controller adds the default ServiceAccount
        accounts = await cluster.client.send(
            KubeRequest("GET", f"/api/v1/namespaces/{name}/serviceaccounts")
        )
        if accounts.get("items"):
            return
        await asyncio.sleep(0.1)


def _app(name: str, namespace: str) -> dict[str, Any]:
    app = spark_pi(name, run_seconds=2)
    app["metadata"]["namespace"] = namespace
    return app


@pytest.mark.parametrize("scope", ["list", "selector"])
async def test_operator_takes_only_its_namespaces(emulator_factory: Any, scope: str) -> None:
    async with running_cluster(emulator_factory, "1.19", operator=False) as cluster:
        await _namespace(cluster, "team-a", {"team": "spark"})
        await _namespace(cluster, "team-b", {"team": "web"})
        options: dict[str, Any] = (
            {"namespaces": ("team-a",)} if scope == "list" else {"namespace_selector": "team=spark"}
        )
        cluster.operator = start_operator(cluster.kubeconfig, **options)
        await cluster.create(_app("mine", "team-a"))
        await cluster.create(_app("theirs", "team-b"))
        await cluster.wait_state("mine", "COMPLETED", within=40)
        await asyncio.sleep(2)
        assert state_of(cluster.log.objects["theirs"]) == ""
        assert not await cluster.pods("sparkoperator.k8s.io/app-name=theirs", namespace="team-b")
