"""Fault injection (start and runtime), restarts, and TLS with the kubeconfig's CA."""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from typing import Any

import httpx
import pytest
import yaml
from emu_helpers import Served, configmap

from kubespark.emulator import Faults
from kubespark.errors import InputError

CMS = "/api/v1/namespaces/default/configmaps"


async def test_error_rate_at_start(serve: Any) -> None:
    faults = Faults(error_rate=1.0, error_codes=(429,), seed=1)
    async with serve("1.19", faults=faults) as (emu, client):
        resp = await client.get(CMS)
        assert resp.status_code == 429
        assert resp.headers["retry-after"] == "1"
        assert resp.json()["reason"] == "TooManyRequests"
        assert resp.json()["details"]["retryAfterSeconds"] == 1
        assert (await client.get("/healthz")).status_code == 200  # not an API path
        assert emu.faults.injected == 1


async def test_error_rate_is_a_fraction(serve: Any) -> None:
    faults = Faults(error_rate=0.3, error_codes=(500, 503), seed=42)
    async with serve("1.19", faults=faults) as (_, client):
        codes = [(await client.get(CMS)).status_code for _ in range(200)]
    failures = [c for c in codes if c != 200]
    assert set(failures) <= {500, 503}
    assert 30 <= len(failures) <= 90


async def test_faults_change_at_runtime_over_http(api: Served) -> None:
    emu, client = api
    assert (await client.get(CMS)).status_code == 200
    resp = await client.put("/_kubespark/faults", json={"error_rate": 1.0, "error_codes": [503]})
    assert resp.status_code == 200 and resp.json()["error_rate"] == 1.0
    assert (await client.get(CMS)).status_code == 503
    bad = await client.put("/_kubespark/faults", json={"error_rate": 7})
    assert bad.status_code == 400
    assert "error rate 7 is not a fraction" in bad.json()["message"]
    emu.set_faults(Faults())
    assert (await client.get(CMS)).status_code == 200


async def test_added_latency(serve: Any) -> None:
    async with serve("1.19", faults=Faults(latency_ms=150)) as (_, client):
        start = time.monotonic()
        await client.get(CMS)
        assert time.monotonic() - start >= 0.15


async def test_watches_are_dropped(serve: Any) -> None:
    async with serve("1.19", faults=Faults(watch_drop_after=0.3)) as (_, client):
        start = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream(
                "GET", CMS, params={"watch": "1", "timeoutSeconds": "30"}
            ) as resp:
                async for _ in resp.aiter_lines():
                    pass
        assert time.monotonic() - start < 5
        assert (await client.get("/version")).status_code == 200


async def test_restart_cuts_connections_and_keeps_the_store(api: Served) -> None:
    emu, client = api
    await client.post(CMS, json=configmap("survivor"))
    port = emu.port

    async def watch() -> None:
        async with client.stream(
            "GET", CMS, params={"watch": "1", "timeoutSeconds": "30", "resourceVersion": "1"}
        ) as resp:
            async for _ in resp.aiter_lines():
                pass

    task = asyncio.ensure_future(watch())
    await asyncio.sleep(0.2)
    resp = await client.post("/_kubespark/restart", params={"downtime": "0.3"})
    assert resp.status_code == 202
    with pytest.raises(httpx.HTTPError):
        await asyncio.wait_for(task, 5)
    for _ in range(100):
        if emu.restarts:
            break
        await asyncio.sleep(0.05)
    assert emu.port == port and emu.restarts == 1
    async with httpx.AsyncClient(base_url=emu.url) as fresh:
        assert (await fresh.get(f"{CMS}/survivor")).status_code == 200


def test_faults_are_checked() -> None:
    with pytest.raises(InputError, match="cannot inject HTTP"):
        Faults(error_codes=(404,))
    with pytest.raises(InputError, match="unknown fault setting"):
        Faults().updated({"nonsense": 1})


async def test_tls_with_the_kubeconfig_ca(serve: Any) -> None:
    async with serve("1.21", tls=True) as (emu, _):
        assert emu.url.startswith("https://127.0.0.1:")
        config = yaml.safe_load(emu.kubeconfig_path.read_text())
        cluster = config["clusters"][0]["cluster"]
        assert cluster["server"] == emu.url
        ca = base64.b64decode(cluster["certificate-authority-data"])
        context = ssl.create_default_context(cadata=ca.decode())
        async with httpx.AsyncClient(base_url=emu.url, verify=context) as client:
            assert (await client.get("/version")).json()["gitVersion"] == "v1.21.0"
        async with httpx.AsyncClient(base_url=emu.url) as untrusting:
            with pytest.raises(httpx.ConnectError):
                await untrusting.get("/version")


async def test_kubeconfig_points_at_the_server(serve: Any, tmp_path: Any) -> None:
    out = tmp_path / "kc.yaml"
    async with serve("1.19", kubeconfig_out=out) as (emu, _):
        assert emu.kubeconfig_path == out
        config = yaml.safe_load(out.read_text())
    assert config["current-context"] == "kubespark-emulator"
    assert config["clusters"][0]["cluster"]["server"] == emu.url
