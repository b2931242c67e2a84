"""The operator's manual clock: time moves only when advanced, timers fire in due order."""

from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from kubespark.operator.clock import ManualClock, SystemClock
from kubespark.operator.workqueue import WorkQueue, run_workers

START = datetime(2026, 1, 1, tzinfo=UTC)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_time_stands_still_until_advanced() -> None:
    clock = ManualClock(START)
    fired: list[str] = []
    clock.call_later(2.0, lambda: fired.append("two"))
    clock.call_later(1.0, lambda: fired.append("one"))
    clock.call_later(0.0, lambda: fired.append("now"))
    await _settle()
    assert fired == ["now"] and clock.now() == START and clock.next_due() == 1.0
    clock.advance(1.5)
    await _settle()
    assert fired == ["now", "one"] and clock.now() == START + timedelta(seconds=1.5)
    clock.advance(10)
    await _settle()
    assert fired == ["now", "one", "two"] and clock.monotonic() == 11.5
    assert clock.next_due() is None


async def test_a_cancelled_timer_never_fires() -> None:
    clock = ManualClock(START)
    fired: list[int] = []
    timer = clock.call_later(1.0, lambda: fired.append(1))
    timer.cancel()
    clock.advance(5)
    await _settle()
    assert fired == [] and clock.next_due() is None


def test_time_goes_forward_only() -> None:
    with pytest.raises(ValueError, match="forward"):
        ManualClock(START).advance(-1)


async def test_advancing_from_another_thread_wakes_this_loop() -> None:
    clock = ManualClock(START)
    woke = asyncio.Event()
    clock.call_later(30.0, woke.set)
    thread = threading.Thread(target=clock.advance, args=(30.0,))
    thread.start()
    thread.join()
    await asyncio.wait_for(woke.wait(), 5)


async def test_the_system_clock_is_real_time() -> None:
    clock = SystemClock()
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5
    woke = asyncio.Event()
    clock.call_later(0.01, woke.set)
    await asyncio.wait_for(woke.wait(), 5)


async def test_queue_delays_and_backoff_run_on_the_queue_clock() -> None:
    clock = ManualClock(START)
    queue: WorkQueue[str] = WorkQueue("t", base_delay=10.0, clock=clock)
    queue.add_after("a", 3600.0)
    queue.add_after("a", 60.0)  # the earlier wake-up wins
    await _settle()
    assert len(queue) == 0 and clock.next_due() == 60.0
    clock.advance(59.9)
    await _settle()
    assert len(queue) == 0
    clock.advance(0.1)
    await asyncio.wait_for(queue.get(), 5)
    queue.done("a")
    assert clock.next_due() is None  # the later wake-up was cancelled, not left pending

    active = asyncio.Event()
    active.set()
    calls: list[float] = []

    async def failing(key: str) -> float | None:
        calls.append(clock.monotonic())
        raise RuntimeError("transient")

    queue.add("b")
    task = asyncio.create_task(run_workers(queue, failing, workers=1, active=active))
    for _ in range(3):
        await _settle()
        due = clock.next_due()
        assert due is not None
        clock.advance(due)
    await _settle()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    queue.close()
    # Retried after 10, 20 and 40 seconds of the clock: back-off doubles, no real waiting.
    assert [b - a for a, b in itertools.pairwise(calls)] == [10.0, 20.0, 40.0]
