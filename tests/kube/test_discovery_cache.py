"""The CLI's discovery cache: used while valid, refreshed when the server or the clock says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubespark.emulator.testing import RunningEmulator
from kubespark.kube.discovery_cache import CACHE_SECONDS, cache_file, cached_surface
from kubespark.submit.submitted_apps import connect

pytestmark = pytest.mark.usefixtures("own_caches")


def _without_batch(path: Path) -> dict[str, object]:
    """Edit the cached documents so that a surface read from them has no batch/v1."""
    data = json.loads(path.read_text())
    data["resourceLists"].pop("batch/v1")
    data["groups"]["groups"] = [g for g in data["groups"]["groups"] if g["name"] != "batch"]
    path.write_text(json.dumps(data))
    return data


async def test_a_second_run_reads_discovery_from_the_cache(emulator: RunningEmulator) -> None:
    async with connect(str(emulator.kubeconfig_path), None) as client:
        live = await cached_surface(client)
        path = cache_file(client.server)
        assert path.exists() and live.resource("batch/v1", "Job") is not None
        _without_batch(path)
        cached = await cached_surface(client)
    assert cached.resource("batch/v1", "Job") is None  # it came from the (edited) cache
    assert cached.resource("v1", "Pod") is not None
    assert str(cached.server_version) == emulator.version.lstrip("v")


async def test_a_new_server_version_or_an_old_cache_is_discovered_again(
    emulator: RunningEmulator,
) -> None:
    async with connect(str(emulator.kubeconfig_path), None) as client:
        await cached_surface(client)
        path = cache_file(client.server)
        data = _without_batch(path)
        fetched = float(data["fetched"])  # type: ignore[arg-type]
        old = await cached_surface(client, now=fetched + CACHE_SECONDS + 1)
        assert old.resource("batch/v1", "Job") is not None
        data = _without_batch(path)
        path.write_text(json.dumps({**data, "gitVersion": "v1.18.0"}))
        upgraded = await cached_surface(client)
        assert upgraded.resource("batch/v1", "Job") is not None


async def test_an_unreadable_cache_is_ignored(emulator: RunningEmulator) -> None:
    async with connect(str(emulator.kubeconfig_path), None) as client:
        path = cache_file(client.server)
        path.parent.mkdir(parents=True)
        path.write_text("{not json")
        surface = await cached_surface(client)
    assert surface.resource("v1", "Pod") is not None
    assert json.loads(path.read_text())["gitVersion"] == emulator.version
