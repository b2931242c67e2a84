"""A keyed work queue with delays and per-key back-off, as controller-runtime's controllers use.

Owns the guarantees a reconciler relies on: a key waits in the queue at most once however often
it is added; a key is never handed to two workers at once (an add while it is being processed
marks it dirty and it comes back once done); ``add_after`` keeps the earliest wake-up of a key;
``add_rate_limited`` backs off exponentially per key until ``forget``. Workers run a handler
that returns an optional requeue delay; a handler that raises is retried with back-off.

It knows nothing about Kubernetes. Work only runs while ``active`` is set (leader election).
Delays run on the operator's clock (``kubespark.operator.clock``), not the event loop's, so a
test on a manual clock reaches every requeue and back-off by advancing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from kubespark.operator.clock import OperatorClock, SystemClock, Timer

__all__ = ["WorkQueue", "run_together", "run_workers"]

K = TypeVar("K", bound=Hashable)
log = logging.getLogger("kubespark.operator")


class WorkQueue(Generic[K]):
    """Keys to reconcile, deduplicated, with delayed adds and exponential per-key back-off."""

    def __init__(
        self,
        name: str,
        *,
        base_delay: float = 0.05,
        max_delay: float = 60.0,
        clock: OperatorClock | None = None,
    ) -> None:
        self.name = name
        self.clock = clock or SystemClock()
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._waiting: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._timers: dict[K, tuple[float, Timer]] = {}
        self._failures: dict[K, int] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        """A worker holds a key of this queue."""
        return bool(self._processing)

    @property
    def delayed(self) -> int:
        return len(self._timers)

    def add(self, key: K) -> None:
        if self._closed:
            return
        if key in self._processing:
            self._dirty.add(key)
        elif key not in self._waiting:
            self._waiting.add(key)
            self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Add ``key`` in ``delay`` seconds; an earlier pending wake-up of it wins."""
        if self._closed:
            return
        if delay <= 0:
            self.add(key)
            return
        due = self.clock.monotonic() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()
        self._timers[key] = (due, self.clock.call_later(delay, lambda: self._fire(key)))

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: K) -> float:
        """Add ``key`` after its back-off (doubling per failure); returns the delay."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay = float(min(self.max_delay, self.base_delay * 2.0**failures))
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """Reset the back-off of ``key`` (after a success)."""
        self._failures.pop(key, None)

    def discard(self, key: K) -> None:
        """Drop every trace of ``key`` (its object is gone)."""
        self._failures.pop(key, None)
        pending = self._timers.pop(key, None)
        if pending is not None:
            pending[1].cancel()

    async def get(self) -> K:
        while True:
            key = await self._queue.get()
            if key in self._waiting:
                self._waiting.discard(key)
                self._processing.add(key)
                return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def close(self) -> None:
        self._closed = True
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()


Handler = Callable[[K], Awaitable[float | None]]


async def run_workers(
    queue: WorkQueue[K],
    handler: Handler[K],
    *,
    workers: int,
    active: asyncio.Event,
    on_result: Callable[[str], None] | None = None,
) -> None:
    """Run ``workers`` tasks draining ``queue`` with ``handler`` until cancelled."""

    async def worker() -> None:
        while True:
            await active.wait()
            key = await queue.get()
            try:
                if not active.is_set():  # demoted while waiting: leave the key for later
                    queue.add_after(key, 1.0)
                    continue
                requeue = await handler(key)
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = queue.add_rate_limited(key)
                log.warning(
                    "reconcile of %s %s failed; retrying in %.2fs",
                    queue.name,
                    key,
                    delay,
                    exc_info=True,
                )
                if on_result:
                    on_result("error")
            else:
                queue.forget(key)
                if requeue is not None:
                    queue.add_after(key, requeue)
                if on_result:
                    on_result("ok")
            finally:
                queue.done(key)

    await run_together(
        [asyncio.create_task(worker(), name=f"{queue.name}-worker-{i}") for i in range(workers)]
    )


async def run_together(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for ``tasks``; when one fails or the wait is cancelled, cancel and reap them all."""
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
