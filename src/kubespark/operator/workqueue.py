"""A keyed work queue with delays and per-key back-off, as controller-runtime's controllers use.

Owns the guarantees a reconciler relies on: a key waits in the queue at most once however often
it is added; a key is never handed to two workers at once (an add while it is being processed
marks it dirty and it comes back once done); ``add_after`` keeps the earliest wake-up of a key;
``add_rate_limited`` backs off exponentially per key until ``forget``. Workers run a handler
that returns an optional requeue delay; a handler that raises is retried with back-off.

Two lanes, ``FIRST`` before ``LATER``: a ``lane_of`` function given by the owner (which knows
what a key stands for) picks a key's lane when it is added, and a waiting key moves up to
``FIRST`` if added again as such. ``get`` hands out ``FIRST`` keys first but at most
``fair_share`` of them in a row while ``LATER`` keys wait, so neither lane starves. (client-go's
workqueue, which kubeflow's controller uses, is one FIFO lane; with a burst of new keys ahead, a
key whose object changed waited behind all of them.)

It knows nothing about Kubernetes. Work only runs while ``active`` is set (leader election).
Delays run on the operator's clock (``kubespark.operator.clock``), not the event loop's, so a
test on a manual clock reaches every requeue and back-off by advancing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from enum import IntEnum
from typing import Generic, TypeVar

from kubespark.operator.clock import OperatorClock, SystemClock, Timer

__all__ = ["Lane", "WorkQueue", "run_together", "run_workers"]

K = TypeVar("K", bound=Hashable)
log = logging.getLogger("kubespark.operator")


class Lane(IntEnum):
    """Where a waiting key queues: ``FIRST`` keys are handed out before ``LATER`` ones."""

    FIRST = 0
    LATER = 1


class WorkQueue(Generic[K]):
    """Keys to reconcile, deduplicated, with delayed adds and exponential per-key back-off."""

    def __init__(
        self,
        name: str,
        *,
        base_delay: float = 0.05,
        max_delay: float = 60.0,
        clock: OperatorClock | None = None,
        lane_of: Callable[[K], Lane] | None = None,
        fair_share: int = 4,
    ) -> None:
        if fair_share < 1:
            raise ValueError(f"fair_share must be at least 1, not {fair_share}")
        self.name = name
        self.clock = clock or SystemClock()
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lane_of: Callable[[K], Lane] = lane_of or (lambda _key: Lane.FIRST)
        self.fair_share = fair_share
        self._lanes: tuple[deque[tuple[int, K]], deque[tuple[int, K]]] = (deque(), deque())
        self._tickets = itertools.count()
        # One token per waiting key: ``get`` awaits a token, then takes the best waiting key.
        self._tokens: asyncio.Queue[None] = asyncio.Queue()
        # A waiting key's lane and ticket; a lane entry with another ticket is stale (the key
        # moved lanes, or was taken and queued again) and is skipped.
        self._waiting: dict[K, tuple[Lane, int]] = {}
        self._first_in_a_row = 0
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
            return
        lane = self.lane_of(key)
        queued = self._waiting.get(key)
        if queued is not None and queued[0] <= lane:
            return
        ticket = next(self._tickets)
        self._waiting[key] = (lane, ticket)
        self._lanes[lane].append((ticket, key))
        if queued is None:
            self._tokens.put_nowait(None)

    def waiting(self, lane: Lane) -> int:
        """How many keys wait in ``lane``."""
        return sum(1 for queued, _ in self._waiting.values() if queued is lane)

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
        await self._tokens.get()
        key = self._take()
        del self._waiting[key]
        self._processing.add(key)
        return key

    def _take(self) -> K:
        """The next waiting key: ``FIRST`` unless ``fair_share`` of them just went in a row."""
        first, later = (self._live(lane) for lane in Lane)
        if first and (not later or self._first_in_a_row < self.fair_share):
            self._first_in_a_row += 1
            return self._lanes[Lane.FIRST].popleft()[1]
        self._first_in_a_row = 0
        return self._lanes[Lane.LATER].popleft()[1]

    def _live(self, lane: Lane) -> bool:
        """Drop the stale head entries of ``lane``; True if a key waits there."""
        entries = self._lanes[lane]
        while entries:
            ticket, key = entries[0]
            if self._waiting.get(key) == (lane, ticket):
                return True
            entries.popleft()
        return False

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
