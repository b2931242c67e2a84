"""Client-side rate limits of API requests: client-go's token bucket (QPS and burst).

Owns :class:`RequestBudget`: a bucket of ``burst`` tokens refilled at ``qps`` per second; each
request takes one, waiting when none is left, as client-go's ``flowcontrol`` limiter does (and
as kubeflow's ``--kube-api-qps``/``--kube-api-burst`` set it). It also counts what went out per
HTTP verb and resource and how many requests had to wait, for the operator's metrics and the
benchmark. It sends nothing itself; of Kubernetes it knows only how a REST path names its
resource (:func:`resource_of`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["RequestBudget", "resource_of"]


def resource_of(path: str) -> str:
    """The resource a REST path addresses, with its subresource: ``pods``, ``pods/status``,
    ``sparkapplications``; ``discovery`` for paths naming none (``/version``, ``/apis/g/v``).

    Bounded by the resources the client uses, so it can label a metric.
    """
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts[:1] == ["api"]:
        parts = parts[2:]
    elif parts[:1] == ["apis"]:
        parts = parts[3:]
    else:
        return "discovery"
    if len(parts) > 2 and parts[0] == "namespaces":
        parts = parts[2:]  # the namespace's own objects, not the namespace
    if not parts:
        return "discovery"
    return f"{parts[0]}/{parts[2]}" if len(parts) > 2 else parts[0]


@dataclass
class RequestBudget:
    """Token bucket plus request accounting; ``qps`` 0 means no limit (accounting only)."""

    qps: float = 0.0
    burst: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # by verb (GET, POST, ..., WATCH)
    by_resource: Counter[tuple[str, str]] = field(default_factory=Counter)  # (verb, resource)
    throttled: int = 0  # requests that waited for a token
    waited_seconds: float = 0.0
    _tokens: float = field(default=0.0, init=False)
    _stamp: float = field(default_factory=time.monotonic, init=False)
    _lock: asyncio.Lock | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.qps < 0 or self.burst < 0:
            raise ValueError("qps and burst must not be negative")
        self.burst = max(self.burst, 1) if self.qps else self.burst
        self._tokens = float(self.burst)

    async def take(self, verb: str, path: str = "") -> None:
        """Count one request of ``verb`` to ``path``; wait for a token first when limited."""
        self.requests[verb] += 1
        self.by_resource[verb, resource_of(path)] += 1
        if not self.qps:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # first come, first served, as client-go's limiter
            wait = self._reserve()
            if wait > 0:
                self.throttled += 1
                self.waited_seconds += wait
                await asyncio.sleep(wait)

    def _reserve(self) -> float:
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.qps)
        self._stamp = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps
