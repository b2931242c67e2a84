"""Shared test configuration: strictness that applies to every test.

- Every async test ends with no task of its own still pending (a leaked-task check, as kopf's
  own suite does): a task left running is a bug in the code under test or in the test.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

pytest_plugins = ["kubespark.emulator.testing"]  # the emulator and emulator_factory fixtures


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        func = getattr(item, "function", None)
        if func is not None and inspect.iscoroutinefunction(func):
            item.fixturenames.insert(0, "_no_leaked_tasks")  # type: ignore[attr-defined]


@pytest_asyncio.fixture
async def _no_leaked_tasks() -> AsyncIterator[None]:
    before = set(asyncio.all_tasks())
    yield
    # Give cancelled tasks their last step before judging.
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = [
        t
        for t in asyncio.all_tasks()
        if t not in before and t is not asyncio.current_task() and not t.done()
    ]
    if leaked:
        for task in leaked:
            task.cancel()
        pytest.fail(f"test leaked {len(leaked)} pending task(s): {leaked!r}")
