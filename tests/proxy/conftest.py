"""Fixtures for the proxy's tests: a recording upstream, and proxies in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from proxy_upstream import TOKEN, FakeUpstream, fake_upstream

from kubespark.proxy import Proxy, ProxyOptions, run_proxy


@pytest_asyncio.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    async with fake_upstream() as up:
        yield up


@asynccontextmanager
async def proxy_for(kubeconfig: Path, **options: Any) -> AsyncIterator[Proxy]:
    options.setdefault("listen", "127.0.0.1:0")
    options.setdefault("tls", False)
    async with run_proxy(ProxyOptions(upstream_kubeconfig=kubeconfig, **options)) as proxy:
        yield proxy


@pytest.fixture
def start_proxy() -> Callable[..., AbstractAsyncContextManager[Proxy]]:
    """``async with start_proxy(kubeconfig, tls=True) as proxy:``"""
    return proxy_for


@pytest_asyncio.fixture
async def proxy(upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Proxy]:
    """A plain-HTTP proxy in front of ``upstream``, whose kubeconfig carries ``TOKEN``."""
    kubeconfig = upstream.kubeconfig(tmp_path / "upstream.yaml", token=TOKEN)
    async with proxy_for(kubeconfig) as running:
        yield running
