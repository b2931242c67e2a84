"""The work queue's guarantees: one pending entry per key, no key in two workers, back-off."""

from __future__ import annotations

import asyncio

from kubespark.operator.workqueue import WorkQueue, run_workers


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
