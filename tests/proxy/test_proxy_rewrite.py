"""Rewritten applies as the upstream sees them and as the client is answered, against a recording
upstream that reports Kubernetes 1.19 (the emulator's own tests cover a real store)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from proxy_upstream import TOKEN, FakeUpstream

from kubespark.proxy import Proxy, RewriteAs

StartProxy = Callable[..., AbstractAsyncContextManager[Proxy]]

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


async def test_an_apply_119_rejects_is_applied_without_what_it_cannot_type(
    proxy: Proxy, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kubespark.proxy")
    path, body = recorded("Service")
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.patch(path, content=json.dumps(body), headers=APPLY)
    assert answer.status_code == 200  # the upstream's answer (this one says 200 to any PATCH)
    (sent,) = writes(upstream)
    assert (sent.method, sent.target) == ("PATCH", path)
    assert sent.headers["content-type"] == ["application/apply-patch+yaml"]
    applied = json.loads(sent.body)
    assert "ipFamilies" not in applied["spec"] and "ipFamilyPolicy" not in applied["spec"]
    assert [p["protocol"] for p in applied["spec"]["ports"]] == ["TCP"] * 3
    # The answer is the upstream's (the fake echoes what it got), with the rewrite explained.
    assert json.loads(answer.json()["body"]) == applied
    assert answer.headers["audit-id"] == "fake-audit-id"
    warnings = answer.headers.get_list("warning")
    assert any("would fail with HTTP 500" in w for w in warnings)
    assert any("applied the Service without spec.ipFamilies" in w for w in warnings)
    assert all(w.startswith('299 - "kubespark proxy: ') for w in warnings)
    logged = [r.getMessage() for r in caplog.records]
    assert any("rewrote the server-side apply" in m and "-> 200" in m for m in logged)


@pytest.mark.parametrize("exists", [False, True], ids=["new", "existing"])
async def test_as_the_planner_plans_it_a_create_then_a_merge_patch(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy, exists: bool
) -> None:
    path, body = recorded("Service")
    if exists:
        upstream.existing.add("/api/v1/namespaces/spark-jobs/services")
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml")
    async with (
        start_proxy(kubeconfig, rewrite_as=RewriteAs.CREATE) as proxy,
        httpx.AsyncClient(base_url=proxy.url) as client,
    ):
        answer = await client.patch(path + "&dryRun=All", content=json.dumps(body), headers=APPLY)
    sent = writes(upstream)
    created = json.loads(sent[0].body)
    assert (sent[0].method, sent[0].target) == (
        "POST",
        "/api/v1/namespaces/spark-jobs/services?fieldManager=fabric8&dryRun=All",
    )
    assert "ipFamilies" not in created["spec"] and created["spec"]["ports"] == body["spec"]["ports"]
    if not exists:
        assert answer.status_code == 201 and len(sent) == 1
        return
    assert answer.status_code == 200
    patch = sent[1]
    assert patch.target == path.split("?")[0] + "?fieldManager=fabric8&dryRun=All"
    assert patch.headers["content-type"] == ["application/merge-patch+json"]
    assert json.loads(patch.body) == created
    warnings = answer.headers.get_list("warning")
    assert any("the Service exists: updated it by JSON merge patch without" in w for w in warnings)


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
    headers = {**APPLY, **({"Authorization": "Bearer client-own"} if own else {})}
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        await client.patch(path, content=json.dumps(body), headers=headers)
    expected = "Bearer client-own" if own else f"Bearer {TOKEN}"
    assert [s.headers["authorization"] for s in writes(upstream)] == [[expected]]


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


async def test_an_upstream_upgraded_in_place_is_noticed_at_the_next_apply(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    path, body = recorded("Service")
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml")
    async with (
        start_proxy(kubeconfig, recheck_seconds=0) as proxy,
        httpx.AsyncClient(base_url=proxy.url) as client,
    ):
        await client.patch(path, content=json.dumps(body), headers=APPLY)
        assert json.loads(writes(upstream)[-1].body)["spec"].get("ipFamilies") is None
        upstream.git_version = "v1.21.14"  # upgraded, without the proxy losing its connection
        await client.patch(path, content=json.dumps(body), headers=APPLY)
    assert proxy.capabilities.refreshes == 2
    snapshot = proxy.capabilities.snapshot
    assert snapshot is not None and snapshot.git_version == "v1.21.14"
    assert json.loads(writes(upstream)[-1].body) == body  # 1.21 takes it: forwarded as it was
    assert proxy.rewriter.rewrites == 1
