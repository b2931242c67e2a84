"""Watch streams: events, resourceVersion resumption, 410, timeouts, bookmarks, selectors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from emu_helpers import Served, configmap

CMS = "/api/v1/namespaces/default/configmaps"


async def _events(
    client: httpx.AsyncClient,
    params: dict[str, Any],
    count: int,
    path: str = CMS,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Read ``count`` events from a watch (bounded by its timeoutSeconds)."""
    events: list[dict[str, Any]] = []
    async with client.stream("GET", path, params={"watch": "1", **params}, headers=headers) as resp:
        assert resp.status_code == 200
        async for line in resp.aiter_lines():
            if line.strip():
                events.append(json.loads(line))
            if len(events) >= count:
                break
    return events


async def test_watch_from_now_sees_later_changes(api: Served) -> None:
    _, client = api
    listed = (await client.get(CMS)).json()
    rv = listed["metadata"]["resourceVersion"]

    async def writes() -> None:
        await asyncio.sleep(0.05)
        created = (await client.post(CMS, json=configmap("w"))).json()
        await client.put(f"{CMS}/w", json=dict(created, data={"k": "2"}))
        await client.delete(f"{CMS}/w")

    task = asyncio.ensure_future(writes())
    events = await _events(client, {"resourceVersion": rv, "timeoutSeconds": "5"}, 3)
    await task
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(e["object"]["metadata"]["name"] == "w" for e in events)
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)


async def test_watch_without_resource_version_starts_with_the_current_state(api: Served) -> None:
    _, client = api
    for name in ("a", "b"):
        await client.post(CMS, json=configmap(name))
    events = await _events(client, {"timeoutSeconds": "5"}, 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


async def test_watch_resumes_from_a_resource_version(api: Served) -> None:
    _, client = api
    first = (await client.post(CMS, json=configmap("a"))).json()
    await client.post(CMS, json=configmap("b"))
    await client.post(CMS, json=configmap("c"))
    since = first["metadata"]["resourceVersion"]
    events = await _events(client, {"resourceVersion": since, "timeoutSeconds": "5"}, 2)
    assert [e["object"]["metadata"]["name"] for e in events] == ["b", "c"]


async def test_too_old_resource_version_is_a_410_error_event(serve: Any) -> None:
    async with serve("1.19") as (emu, client):
        emu.api.store._history_limit = 5
        for i in range(10):
            await client.post(CMS, json=configmap(f"x{i}"))
        events = await _events(client, {"resourceVersion": "2", "timeoutSeconds": "5"}, 1)
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith("too old resource version: 2 (")


async def test_timeout_seconds_ends_the_stream(api: Served) -> None:
    _, client = api
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client.stream(
        "GET", CMS, params={"watch": "true", "timeoutSeconds": "1", "resourceVersion": "1"}
    ) as resp:
        lines = [line async for line in resp.aiter_lines()]
    elapsed = loop.time() - start
    assert lines == [] or all(json.loads(line)["type"] != "ERROR" for line in lines if line)
    assert 0.9 <= elapsed < 5


async def test_bookmarks_carry_the_current_resource_version(serve: Any) -> None:
    async with serve("1.19", bookmark_interval=0.2, speed=1.0) as (_, client):
        created = (await client.post(CMS, json=configmap("a"))).json()
        events = await _events(
            client,
            {
                "allowWatchBookmarks": "true",
                "timeoutSeconds": "5",
                "resourceVersion": created["metadata"]["resourceVersion"],
            },
            1,
        )
    assert events[0]["type"] == "BOOKMARK"
    assert events[0]["object"]["kind"] == "ConfigMap"
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(
        created["metadata"]["resourceVersion"]
    )


async def test_label_selector_watch_turns_leaving_into_deleted(api: Served) -> None:
    _, client = api
    created = (await client.post(CMS, json=configmap("l", tier="web"))).json()
    rv = created["metadata"]["resourceVersion"]

    async def relabel() -> None:
        await asyncio.sleep(0.05)
        moved = dict(created)
        moved["metadata"] = dict(created["metadata"], labels={"tier": "db"})
        await client.put(f"{CMS}/l", json=moved)

    task = asyncio.ensure_future(relabel())
    events = await _events(
        client, {"labelSelector": "tier=web", "resourceVersion": rv, "timeoutSeconds": "5"}, 1
    )
    await task
    assert events[0]["type"] == "DELETED"
    assert events[0]["object"]["metadata"]["labels"] == {"tier": "db"}


async def test_watch_of_one_object_by_name(api: Served) -> None:
    _, client = api
    await client.post(CMS, json=configmap("mine"))
    await client.post(CMS, json=configmap("other"))
    events = await _events(
        client, {"fieldSelector": "metadata.name=mine", "timeoutSeconds": "5"}, 1
    )
    assert events[0]["object"]["metadata"]["name"] == "mine"
    legacy = await _events(
        client, {"timeoutSeconds": "5"}, 1, path="/api/v1/watch/namespaces/default/configmaps/other"
    )
    assert legacy[0]["object"]["metadata"]["name"] == "other"


async def test_watch_as_table(api: Served) -> None:
    _, client = api
    await client.post(CMS, json=configmap("t"))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    events = await _events(client, {"timeoutSeconds": "5"}, 1, headers={"Accept": accept})
    table = events[0]["object"]
    assert table["kind"] == "Table"
    assert table["rows"][0]["cells"][:2] == ["t", 1]


async def test_watch_over_websocket(api: Served) -> None:
    from httpx_ws import aconnect_ws

    _, client = api
    await client.post(CMS, json=configmap("ws"))
    async with aconnect_ws(f"{CMS}?watch=true&timeoutSeconds=5", client) as ws:
        event = json.loads(await ws.receive_text())
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "ws")
        await client.delete(f"{CMS}/ws")
        event = json.loads(await ws.receive_text())
        assert event["type"] == "DELETED"


async def test_websocket_to_a_missing_resource_is_refused(api: Served) -> None:
    from httpx_ws import WebSocketUpgradeError, aconnect_ws

    _, client = api
    with pytest.raises(WebSocketUpgradeError) as refused:
        async with aconnect_ws("/api/v1/namespaces/default/widgets?watch=true", client):
            pass
    assert refused.value.response.status_code == 404
