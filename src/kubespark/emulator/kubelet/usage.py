"""What a pod's containers use: a documented model, or a process group measured in /proc.

Owns the numbers behind the metrics API (``apiserver.metrics``). A simulated container runs
nothing, so its usage is modelled: its request (or, without one, the scheduler's non-zero
defaults, 100m CPU and 200 MiB, pkg/scheduler/util/pod_resources.go) scaled by a load fixed
per container: a fraction in [0.2, 0.8) of the CPU request and [0.3, 0.8) of the memory
request, drawn from a hash of the pod's uid and the container's name. Deterministic: the same
container always reports the same usage, so tests can predict it. A process kubelet's container
is a real process group: its CPU is the rate of the group's user+system ticks between two
samples (over its lifetime at the first), its memory the group's resident set (metrics-server
reports the cgroup's working set; the resident set is the nearest a process group has).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from kubespark.apisurface.quantity import parse_quantity
from kubespark.emulator.apiserver.metrics import Usage

__all__ = [
    "DEFAULT_CPU_NANOCORES",
    "DEFAULT_MEMORY_BYTES",
    "GroupSampler",
    "modelled",
]

DEFAULT_CPU_NANOCORES = 100_000_000  # DefaultMilliCPURequest = 100
DEFAULT_MEMORY_BYTES = 200 * 1024 * 1024  # DefaultMemoryRequest = 200 MB
_MIN_SAMPLE_GAP = 0.5  # seconds: closer samples reuse the last rate (ticks are 10 ms coarse)


def _requested(container: dict[str, Any], name: str) -> Decimal | None:
    resources = container.get("resources") or {}
    for kind in ("requests", "limits"):  # a limit alone is also the request (defaulting)
        quantity = parse_quantity((resources.get(kind) or {}).get(name, ""))
        if quantity is not None and quantity.value > 0:
            return quantity.value
    return None


def _fraction(uid: str, container: str, what: str) -> float:
    digest = hashlib.sha256(f"{uid}/{container}/{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def modelled(uid: str, container: dict[str, Any]) -> Usage:
    """The model's usage of a running simulated container (see the module docstring)."""
    name = str(container.get("name", ""))
    cpu = _requested(container, "cpu")
    memory = _requested(container, "memory")
    cpu_ns = cpu * 10**9 if cpu is not None else Decimal(DEFAULT_CPU_NANOCORES)
    memory_b = memory if memory is not None else Decimal(DEFAULT_MEMORY_BYTES)
    cpu_load = 0.2 + 0.6 * _fraction(uid, name, "cpu")
    memory_load = 0.3 + 0.5 * _fraction(uid, name, "memory")
    memory_used = int(memory_b * Decimal(memory_load)) // 1024 * 1024  # whole KiB, as cAdvisor
    return Usage(int(cpu_ns * Decimal(cpu_load)), memory_used)


@dataclass(frozen=True)
class _Sample:
    at: float  # time.monotonic()
    ticks: int
    rate: float  # cores, the last computed


def _group_stats(pgid: int, proc: Path) -> tuple[int, int, int] | None:
    """(CPU ticks, resident pages, the leader's start in ticks since boot) of a process group."""
    ticks = pages = 0
    leader_start = -1
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) != pgid:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
        pages += int(fields[21])  # rss
        if int(entry.name) == pgid:
            leader_start = int(fields[19])
    return (ticks, pages, leader_start) if leader_start >= 0 else None


class GroupSampler:
    """CPU rates and resident sets of process groups, from successive /proc samples."""

    def __init__(self, proc: Path = Path("/proc")) -> None:
        self.proc = proc
        self._hz = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._last: dict[int, _Sample] = {}  # by process group

    def usage(self, pgid: int) -> Usage | None:
        """The group's usage now, or None when its leader is gone."""
        stats = _group_stats(pgid, self.proc)
        if stats is None:
            self._last.pop(pgid, None)
            return None
        ticks, pages, start = stats
        now = time.monotonic()
        last = self._last.get(pgid)
        if last is not None and now - last.at < _MIN_SAMPLE_GAP:
            return Usage(int(last.rate * 1e9), pages * self._page, _MIN_SAMPLE_GAP)
        if last is not None:
            window = now - last.at
            rate = max(0, ticks - last.ticks) / self._hz / window
        else:  # the first sample: the average since the group's leader started
            uptime = float((self.proc / "uptime").read_text().split()[0])
            window = max(uptime - start / self._hz, 1.0 / self._hz)
            rate = ticks / self._hz / window
        self._last[pgid] = _Sample(now, ticks, rate)
        return Usage(int(rate * 1e9), pages * self._page, round(window, 3))

    def forget(self, pgid: int) -> None:
        self._last.pop(pgid, None)
