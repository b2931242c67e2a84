"""Rewritten applies as the upstream sees them and as the client is answered, against a recording
upstream that reports Kubernetes 1.19 (the emulator's own tests cover a real store)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from proxy_upstream import TOKEN, FakeUpstream

from kubespark.proxy import Proxy

TRACES = Path(__file__).resolve().parents[1] / "driver" / "conformance" / "traces" / "reference"
APPLY = {"Content-Type": "application/apply-patch+yaml; charset=utf-8"}


def recorded(kind: str) -> tuple[str, dict[str, Any]]:
    for line in (TRACES / "spark-3.5.1.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("method") == "PATCH" and entry["body"].get("kind") == kind:
            return entry["path"], entry["body"]
    raise AssertionError(kind)


def writes(upstream: FakeUpstream) -> list[Any]:
    return [s for s in upstream.seen if s.method in ("POST", "PATCH", "PUT")]


async def test_an_apply_119_rejects_is_created_and_answered_201(
    proxy: Proxy, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kubespark.proxy")
    path, body = recorded("Service")
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.patch(path, content=json.dumps(body), headers=APPLY)
    assert answer.status_code == 201
    sent = writes(upstream)
    assert [(s.method, s.target) for s in sent] == [
        ("POST", "/api/v1/namespaces/spark-jobs/services?fieldManager=fabric8")
    ]
    assert sent[0].headers["content-type"] == ["application/json"]
    created = json.loads(sent[0].body)
    assert "ipFamilies" not in created["spec"] and "ipFamilyPolicy" not in created["spec"]
    assert created["spec"]["ports"] == body["spec"]["ports"]
    # The answer is the upstream's (the fake echoes what it got), with the rewrite explained.
    assert json.loads(answer.json()["body"]) == created
    assert answer.headers["audit-id"] == "fake-audit-id"
    warnings = answer.headers.get_list("warning")
    assert any("would fail with HTTP 500" in w for w in warnings)
    assert any("created the Service with POST instead of apply" in w for w in warnings)
    assert all(w.startswith('299 - "kubespark proxy: ') for w in warnings)
    logged = [r.getMessage() for r in caplog.records]
    assert any("rewrote the server-side apply" in m and "-> 201" in m for m in logged)


async def test_an_existing_object_is_updated_by_merge_patch_and_answered_200(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    path, body = recorded("Service")
    upstream.existing.add("/api/v1/namespaces/spark-jobs/services")
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.patch(path + "&dryRun=All", content=json.dumps(body), headers=APPLY)
    assert answer.status_code == 200
    sent = writes(upstream)
    assert [s.method for s in sent] == ["POST", "PATCH"]
    patch = sent[1]
    assert patch.target == path.split("?")[0] + "?fieldManager=fabric8&dryRun=All"
    assert patch.headers["content-type"] == ["application/merge-patch+json"]
    assert "ipFamilies" not in json.loads(patch.body)["spec"]
    assert "dryRun=All" in sent[0].target


async def test_a_lossy_rewrite_is_refused_and_nothing_is_written(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    path, body = recorded("Service")
    body["spec"]["ipFamilyPolicy"] = "RequireDualStack"
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.patch(path, content=json.dumps(body), headers=APPLY)
    assert answer.status_code == 422
    status = answer.json()
    assert status["kind"] == "Status" and status["reason"] == "Invalid"
    assert "RequireDualStack" in status["message"]
    assert status["details"]["causes"][0]["field"] == "spec.ipFamilyPolicy"
    assert writes(upstream) == []


async def test_an_apply_the_server_takes_is_forwarded_byte_for_byte(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    path, body = recorded("ConfigMap")
    raw = json.dumps(body, indent=1).encode()
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.patch(path, content=raw, headers=APPLY)
    assert answer.status_code == 200
    assert "warning" not in answer.headers
    (sent,) = writes(upstream)
    assert (sent.method, sent.target, sent.body) == ("PATCH", path, raw)
    assert sent.headers["content-type"] == [APPLY["Content-Type"]]


@pytest.mark.parametrize("own", [True, False], ids=["client-token", "no-client-token"])
async def test_rewritten_writes_carry_the_right_credentials(
    proxy: Proxy, upstream: FakeUpstream, own: bool
) -> None:
    path, body = recorded("Service")
    upstream.existing.add("/api/v1/namespaces/spark-jobs/services")
    headers = {**APPLY, **({"Authorization": "Bearer client-own"} if own else {})}
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        await client.patch(path, content=json.dumps(body), headers=headers)
    expected = "Bearer client-own" if own else f"Bearer {TOKEN}"
    assert [s.headers["authorization"] for s in writes(upstream)] == [[expected], [expected]]


async def test_the_proxys_own_client_token_never_leaves_the_proxy(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        await client.get("/api/v1/pods", headers={"Authorization": f"Bearer {proxy.client_token}"})
    assert upstream.seen[-1].headers["authorization"] == [f"Bearer {TOKEN}"]


async def test_an_upstream_gone_during_a_rewrite_is_a_503(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    path, body = recorded("Service")
    await proxy.capabilities.current()
    await upstream.stop()
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.patch(path, content=json.dumps(body), headers=APPLY)
    assert answer.status_code == 503
    assert answer.json()["reason"] == "ServiceUnavailable"
