"""Client-side rate limits (kubeflow's kubeAPIQPS/kubeAPIBurst): a token bucket in front of every
request of the operator's client, with the requests by verb and the throttled ones exported."""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Any

import httpx
import pytest
from operator_harness import running_cluster, spark_pi

from kubespark.errors import InputError
from kubespark.kube.ratelimit import RequestBudget
from kubespark.operator.options import OperatorOptions


async def test_the_bucket_lets_a_burst_through_then_paces_at_qps() -> None:
    budget = RequestBudget(qps=10, burst=2)
    for _ in range(6):
        await budget.take("GET")
    assert budget.requests["GET"] == 6
    assert budget.throttled == 4  # the first two were the burst
    # one after another: each of the 4 waits one token's refill (0.1 s), less the time between
    assert 0.3 < budget.waited_seconds <= 0.4 + 1e-9
    queued = RequestBudget(qps=10, burst=2)
    await asyncio.gather(*(queued.take("GET") for _ in range(6)))
    assert queued.throttled == 4  # all at once: they queue for the tokens, first come first
    assert queued.requests["GET"] == 6


async def test_no_qps_means_no_limit_but_counting() -> None:
    budget = RequestBudget()
    await asyncio.gather(*(budget.take(v) for v in ("GET", "POST", "POST")))
    assert budget.throttled == 0 and dict(budget.requests) == {"GET": 1, "POST": 2}
    with pytest.raises(ValueError, match="negative"):
        RequestBudget(qps=-1)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.M)
    assert match, f"{name}{labels} not in the metrics"
    return float(match[1])


@pytest.mark.slow
async def test_the_operator_is_throttled_and_says_so(emulator_factory: Any) -> None:
    port = _port()
    limits = {"kube_api_qps": 20.0, "kube_api_burst": 2, "metrics_port": port}
    async with running_cluster(emulator_factory, "1.21", **limits) as cluster:
        for i in range(4):
            await cluster.create(spark_pi(f"paced-{i}", run_seconds=1))
        for i in range(4):
            await cluster.wait_state(f"paced-{i}", "COMPLETED", within=60)
        await asyncio.sleep(1.5)  # the exporter runs once a second
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    assert _sample(text, "kubespark_operator_api_throttled_count") > 0
    assert _sample(text, "kubespark_operator_api_throttled_seconds") > 0
    name = "kubespark_operator_api_request_count"
    posts = re.findall(rf'^{name}\{{resource="[^"]+",verb="POST"\}} (\S+)$', text, re.M)
    assert sum(float(n) for n in posts) >= 4  # the driver's objects and Events, by resource


@pytest.mark.parametrize(
    ("options", "flag"),
    [
        ({"kube_api_qps": -1.0}, "--kube-api-qps"),
        ({"kube_api_burst": -5}, "--kube-api-qps"),
        ({"peering_lifetime": 5}, "--peering-lifetime"),
    ],
)
def test_bad_limits_name_their_flag(options: dict[str, Any], flag: str) -> None:
    with pytest.raises(InputError) as caught:
        OperatorOptions(**options)
    assert caught.value.where == flag and caught.value.fix
