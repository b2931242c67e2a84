"""Fixtures for the emulator's tests: in-process servers reached over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from emu_helpers import Served

from kubespark.emulator import run_emulator


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
