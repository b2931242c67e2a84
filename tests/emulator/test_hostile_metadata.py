"""Label and annotation keys, YAML bombs in bodies and the fault endpoints' bad values: a 4xx
Status as the API server (or the admin API) gives it, and the server keeps serving."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from emu_helpers import Served, configmap

from kubespark.emulator.apiserver import guarded

CMS = "/api/v1/namespaces/default/configmaps"


def _with_meta(name: str, **meta: Any) -> dict[str, Any]:
    cm = configmap(name)
    cm["metadata"].update(meta)
    return cm


@pytest.mark.parametrize(
    ("section", "key", "detail"),
    [
        ("labels", "bad key!", "name part must consist of alphanumeric characters"),
        ("labels", "a/b/c", "a qualified name must consist of"),
        ("labels", "Example.COM/x", "prefix part a lowercase RFC 1123 subdomain"),
        ("labels", "x" * 64, "name part must be no more than 63 characters"),
        ("labels", "/x", "prefix part must be non-empty"),
        ("annotations", "-leading", "name part must consist of"),
    ],
)
async def test_bad_metadata_keys_are_422_with_the_servers_message(
    api: Served, section: str, key: str, detail: str
) -> None:
    _, client = api
    resp = await client.post(CMS, json=_with_meta("bad-key", **{section: {key: "v"}}))
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["reason"] == "Invalid"
    [cause] = body["details"]["causes"]
    assert cause["field"] == f"metadata.{section}" and detail in cause["message"]
    ok = await client.post(CMS, json=_with_meta("good-key", labels={"app.kubernetes.io/x": "y"}))
    assert ok.status_code == 201


async def test_annotations_over_256_kib_are_too_long(api: Served) -> None:
    _, client = api
    big = {"a": "x" * 200_000, "b": "y" * 100_000}
    resp = await client.post(CMS, json=_with_meta("big", annotations=big))
    assert resp.status_code == 422
    assert "may not be more than 262144 bytes" in resp.text


async def test_a_yaml_bomb_body_is_a_400_in_milliseconds(api: Served) -> None:
    _, client = api
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    resp = await client.post(
        CMS, content="\n".join(lines).encode(), headers={"Content-Type": "application/yaml"}
    )
    assert resp.status_code == 400 and "aliases expand" in resp.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"error_rate": "x"}',
        b'{"error_codes": "abc"}',
        b'{"error_codes": null}',
        b'{"error_rate": 1e999}',
        b'{"nope": 1}',
    ],
)
async def test_bad_fault_settings_are_400(api: Served, body: bytes) -> None:
    _, client = api
    resp = await client.put("/_kubespark/faults", content=body)
    assert resp.status_code == 400, resp.text
    assert (await client.get(CMS)).status_code == 200


@pytest.mark.parametrize("downtime", ["abc", "nan", "-1", "1e9"])
async def test_a_bad_restart_downtime_is_400(api: Served, downtime: str) -> None:
    _, client = api
    resp = await client.post(f"/_kubespark/restart?downtime={downtime}")
    assert resp.status_code == 400


async def test_200_slow_connections_do_not_stop_it_serving(api: Served) -> None:
    emu, client = api
    port = int(emu.url.rsplit(":", 1)[1])
    held = []
    for _ in range(200):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")  # never finished
        held.append(writer)
    try:
        await asyncio.sleep(0.2)
        assert (await client.get(CMS)).status_code == 200
    finally:
        for writer in held:
            writer.close()


@pytest.mark.parametrize("first", [b"", b"GET /api HTTP/1.1\r\nHost: local"])
async def test_silent_and_slow_header_connections_are_closed(
    serve: Any, monkeypatch: pytest.MonkeyPatch, first: bytes
) -> None:
    monkeypatch.setattr(guarded, "HEADER_TIMEOUT", 0.3)
    monkeypatch.setattr(guarded, "IDLE_TIMEOUT", 0.3)
    async with serve("1.19") as (emu, _):
        port = int(emu.url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(first)
        try:
            assert await asyncio.wait_for(reader.read(1), 10) == b""  # closed by the server
        finally:
            writer.close()
