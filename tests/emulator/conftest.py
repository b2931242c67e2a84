"""Fixtures for the emulator's tests: in-process servers reached over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import pytest_asyncio
from emu_helpers import Served

from kubespark.emulator import run_emulator
from kubespark.emulator.testing import RunningEmulator

if TYPE_CHECKING:
    from kubernetes.client import CoreV1Api


@asynccontextmanager
async def served(version: str = "1.19", **settings: Any) -> AsyncIterator[Served]:
    settings.setdefault("speed", 50.0)
    async with (
        run_emulator(version, **settings) as emu,
        httpx.AsyncClient(base_url=emu.url, timeout=10) as client,
    ):
        yield emu, client


@pytest.fixture
def serve() -> Callable[..., AbstractAsyncContextManager[Served]]:
    """``async with serve("1.25") as (emu, client):`` an emulator and a client of it."""
    return served


@pytest_asyncio.fixture
async def api() -> AsyncIterator[Served]:
    async with served("1.19") as pair:
        yield pair


@pytest.fixture
def core() -> Iterator[Callable[[RunningEmulator], CoreV1Api]]:
    """``core(emu)``: the official client's CoreV1Api for an emulator, closed after the test."""
    from kubernetes import client, config  # only the tests that use it pay for its import

    made: list[client.ApiClient] = []

    def make(emu: RunningEmulator) -> CoreV1Api:
        made.append(config.new_client_from_config(str(emu.kubeconfig_path)))
        return client.CoreV1Api(made[-1])

    yield make
    for api_client in made:
        api_client.close()
