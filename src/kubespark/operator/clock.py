"""The operator's clock: the one source of the time its decisions are made by.

Owns :class:`OperatorClock` (what the controllers and work queues ask: the wall time written into
status and Events and compared with TTLs, grace periods and schedules; a monotonic reading for
intervals; timers for requeues and back-off), :class:`SystemClock` (real time, what
``kubespark operator`` runs on) and :class:`ManualClock` (time that moves only when told: tests
run the real operator against the real emulator and skip an ``@every 2s`` schedule's, a TTL's or
a back-off's waiting by advancing it, deterministically).

It must not be read for time the operator merely waits out on the network (HTTP retry back-off,
shutdown drain, kopf's reconnects) or for leader election, which mirrors kopf's peering and so
keeps kopf's real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["ManualClock", "OperatorClock", "SystemClock", "Timer"]


class Timer(Protocol):
    """A pending callback (``asyncio.TimerHandle`` is one)."""

    def cancel(self) -> None: ...


class OperatorClock(Protocol):
    """Time as the operator's controllers see it."""

    def now(self) -> datetime:
        """The wall time (UTC, aware): status times, Events, TTLs, schedules."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for intervals."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` on the running event loop after ``delay`` seconds of this clock."""
        ...


class SystemClock:
    """Real time: the wall clock and the running event loop's timers."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)


@dataclass(eq=False)
class _ManualTimer:
    due: float
    loop: asyncio.AbstractEventLoop
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:  # checked on the loop, where cancel() runs too
            self.callback()


@dataclass(eq=False)
class ManualClock:
    """Time that stands still until :meth:`advance`; safe to advance from another thread.

    The operator runs on its own event loop (in tests, in a thread); timers fire on the loop that
    set them, in due order, when an advance passes their due time.
    """

    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    _elapsed: float = 0.0
    _timers: list[tuple[float, int, _ManualTimer]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        loop = asyncio.get_running_loop()
        with self._lock:
            timer = _ManualTimer(self._elapsed + max(0.0, delay), loop, callback)
            if delay > 0:
                heapq.heappush(self._timers, (timer.due, next(self._order), timer))
                return timer
        loop.call_soon(timer.fire)
        return timer

    def next_due(self) -> float | None:
        """Seconds until the earliest pending timer, or None when none is pending."""
        with self._lock:
            pending = [due for due, _, t in self._timers if not t.cancelled]
            return max(0.0, min(pending) - self._elapsed) if pending else None

    def advance(self, seconds: float) -> None:
        """Move time forward and fire, in due order, every timer that became due."""
        if seconds < 0:
            raise ValueError(f"time goes forward only, not by {seconds}")
        due: list[_ManualTimer] = []
        with self._lock:
            self._elapsed += seconds
            while self._timers and self._timers[0][0] <= self._elapsed:
                due.append(heapq.heappop(self._timers)[2])
        for timer in due:
            if not timer.cancelled:
                with contextlib.suppress(RuntimeError):  # its loop has closed: nothing to wake
                    timer.loop.call_soon_threadsafe(timer.fire)
