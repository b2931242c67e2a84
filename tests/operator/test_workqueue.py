"""The work queue's guarantees: one pending entry per key, no key in two workers, back-off."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kubespark.operator.clock import ManualClock
from kubespark.operator.workqueue import Lane, WorkQueue, run_workers


async def test_a_key_waits_once_and_comes_back_when_dirty() -> None:
    queue: WorkQueue[str] = WorkQueue("t")
    queue.add("a")
    queue.add("a")
    assert len(queue) == 1
    key = await queue.get()
    queue.add("a")  # while it is being processed: not handed out again yet
    assert len(queue) == 0 and queue.busy
    queue.done(key)
    assert len(queue) == 1 and await queue.get() == "a"
    queue.done("a")
    queue.close()


async def test_add_after_keeps_the_earliest_and_backoff_doubles() -> None:
    queue: WorkQueue[str] = WorkQueue("t", base_delay=0.01, max_delay=1.0)
    queue.add_after("a", 5.0)
    queue.add_after("a", 0.01)
    assert await asyncio.wait_for(queue.get(), 1.0) == "a"
    queue.done("a")
    delays = [queue.add_rate_limited("b") for _ in range(4)]
    assert delays == [0.01, 0.02, 0.04, 0.08]
    queue.forget("b")
    assert queue.add_rate_limited("b") == 0.01
    queue.close()


async def test_workers_never_run_one_key_twice_at_once() -> None:
    queue: WorkQueue[int] = WorkQueue("t")
    active = asyncio.Event()
    active.set()
    running: set[int] = set()
    overlaps = []
    done = []
    finished = asyncio.Event()

    async def handler(key: int) -> float | None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        await asyncio.sleep(0.01)
        running.discard(key)
        done.append(key)
        if done.count(key) == 1:
            queue.add(key)  # a new event while it is being handled
        if len(done) == 10:
            finished.set()
        return None

    for key in range(5):
        queue.add(key)
    task = asyncio.create_task(run_workers(queue, handler, workers=4, active=active))
    await asyncio.wait_for(finished.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    queue.close()
    assert not overlaps and sorted(done) == sorted([*range(5), *range(5)])


async def test_a_failing_handler_is_retried() -> None:
    queue: WorkQueue[str] = WorkQueue("t", base_delay=0.01)
    active = asyncio.Event()
    active.set()
    calls = []
    succeeded = asyncio.Event()

    async def handler(key: str) -> float | None:
        calls.append(key)
        if len(calls) < 3:
            raise RuntimeError("transient")
        succeeded.set()
        return None

    queue.add("x")
    task = asyncio.create_task(run_workers(queue, handler, workers=1, active=active))
    await asyncio.wait_for(succeeded.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    queue.close()
    assert calls == ["x", "x", "x"]


def _lanes(first: set[str]) -> Callable[[str], Lane]:
    return lambda key: Lane.FIRST if key in first else Lane.LATER


async def _drain(queue: WorkQueue[str]) -> list[str]:
    order = []
    while len(queue):
        key = await queue.get()
        queue.done(key)
        order.append(key)
    return order


async def test_first_lane_keys_go_before_a_backlog_of_later_ones() -> None:
    first = {"f1", "f2"}
    queue: WorkQueue[str] = WorkQueue("t", lane_of=_lanes(first), fair_share=4)
    for n in range(6):
        queue.add(f"new{n}")
    queue.add("f1")
    queue.add("f2")
    assert queue.waiting(Lane.FIRST) == 2 and queue.waiting(Lane.LATER) == 6
    assert await _drain(queue) == ["f1", "f2", *(f"new{n}" for n in range(6))]
    queue.close()


async def test_neither_lane_starves_the_other() -> None:
    first = {f"f{n}" for n in range(10)}
    queue: WorkQueue[str] = WorkQueue("t", lane_of=_lanes(first), fair_share=3)
    for n in range(3):
        queue.add(f"new{n}")
    for n in range(10):
        queue.add(f"f{n}")
    order = await _drain(queue)
    # Three FIRST keys, then one LATER, while both wait; FIRST keeps its own order.
    assert order == [
        *("f0", "f1", "f2", "new0"),
        *("f3", "f4", "f5", "new1"),
        *("f6", "f7", "f8", "new2"),
        "f9",
    ]
    queue.close()


async def test_a_waiting_key_moves_up_and_is_handed_out_once() -> None:
    first: set[str] = set()
    queue: WorkQueue[str] = WorkQueue("t", lane_of=_lanes(first))
    queue.add("a")
    queue.add("b")
    first.add("b")  # its object changed while it waited: it moves ahead of "a"
    queue.add("b")
    first.discard("b")
    queue.add("b")  # a LATER add does not move a FIRST key back
    assert len(queue) == 2 and queue.waiting(Lane.FIRST) == 1
    assert await _drain(queue) == ["b", "a"]
    # Taken, then queued again behind "c": its stale entry ahead of "c" does not count.
    queue.add("a")
    queue.add("c")
    queue.add("a")
    assert await _drain(queue) == ["a", "c"]
    queue.close()


async def test_a_dirty_key_comes_back_in_the_lane_it_has_then() -> None:
    first: set[str] = set()
    queue: WorkQueue[str] = WorkQueue("t", lane_of=_lanes(first))
    queue.add("a")
    key = await queue.get()
    queue.add("a")  # an event while it is processed
    queue.add("b")
    first.add("a")  # the reconcile submitted it
    queue.done(key)
    assert queue.waiting(Lane.FIRST) == 1
    assert await _drain(queue) == ["a", "b"]
    queue.close()


async def test_delayed_requeues_land_in_their_lane_on_the_manual_clock() -> None:
    clock = ManualClock()
    first = {"live"}
    queue: WorkQueue[str] = WorkQueue("t", clock=clock, lane_of=_lanes(first))
    queue.add_after("live", 10.0)
    queue.add_after("live", 30.0)  # the earlier wake-up wins
    for n in range(3):
        queue.add(f"new{n}")
    clock.advance(9.9)
    await asyncio.sleep(0)  # due timers fire on the loop
    assert queue.waiting(Lane.FIRST) == 0 and queue.delayed == 1
    clock.advance(0.1)
    await asyncio.sleep(0)
    assert queue.waiting(Lane.FIRST) == 1 and queue.delayed == 0
    assert await _drain(queue) == ["live", "new0", "new1", "new2"]
    assert queue.add_rate_limited("new0") == queue.base_delay
    clock.advance(queue.base_delay)
    await asyncio.sleep(0)
    assert await _drain(queue) == ["new0"]
    clock.advance(60.0)  # the 30 s wake-up was dropped, not kept as a second one
    await asyncio.sleep(0)
    assert len(queue) == 0
    queue.close()


def test_fair_share_must_be_positive() -> None:
    with pytest.raises(ValueError, match="fair_share"):
        WorkQueue("t", fair_share=0)
