"""Fault injection: the failures a reliability test asks the emulated server to produce.

Owns the fault plan (a rate of 5xx/429 answers, added latency, watch streams cut after a
while) and the per-server injector that decides, request by request, with its own seeded
random source, whether to fail and how. The plan can be replaced at runtime (admin endpoint,
Python API); a "restart" is the server's business (``server``), not this module's.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from kubespark.errors import InputError
from kubespark.kube.status import Status, StatusCause, StatusDetails

__all__ = ["FaultInjector", "Faults"]

_FAULT_CODES = (429, 500, 502, 503, 504)


@dataclass(frozen=True, slots=True)
class Faults:
    """What to inject. All zero: a well-behaved server."""

    error_rate: float = 0.0  # fraction of API requests answered with an error instead
    error_codes: tuple[int, ...] = (500, 503, 429)  # drawn uniformly for each injected error
    latency_ms: float = 0.0  # added before every API answer
    watch_drop_after: float | None = None  # real seconds after which each watch is cut off
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise InputError(
                f"error rate {self.error_rate} is not a fraction",
                where="faults.error_rate",
                fix="give a number from 0 to 1, e.g. 0.1",
            )
        bad = [c for c in self.error_codes if c not in _FAULT_CODES]
        if bad or not self.error_codes:
            raise InputError(
                f"cannot inject HTTP {bad or 'nothing'}",
                where="faults.error_codes",
                fix="choose among " + ", ".join(str(c) for c in _FAULT_CODES),
            )
        if self.latency_ms < 0:
            raise InputError(
                "latency cannot be negative",
                where="faults.latency_ms",
                fix="give milliseconds >= 0",
            )
        if self.watch_drop_after is not None and self.watch_drop_after <= 0:
            raise InputError(
                "a watch cannot be cut before it starts",
                where="faults.watch_drop_after",
                fix="give seconds > 0",
            )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_codes"] = list(self.error_codes)
        return data

    def updated(self, changes: dict[str, Any]) -> Faults:
        """A copy with ``changes`` (JSON names) applied; unknown names are an InputError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InputError(
                f"unknown fault setting {', '.join(unknown)}",
                where="faults",
                fix="use " + ", ".join(sorted(known)),
            )
        clean = dict(changes)
        if "error_codes" in clean:
            clean["error_codes"] = tuple(int(c) for c in clean["error_codes"])
        try:
            return replace(self, **clean)
        except (TypeError, ValueError) as err:
            raise InputError(str(err), where="faults", fix="send numbers") from None


_MESSAGES = {
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault (kubespark emulator)"),
    502: ("InternalError", "Internal error occurred: bad gateway (injected fault)"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "the server was unable to return a response in the time allotted, but may "
        "still be processing the request",
    ),
}


class FaultInjector:
    """Applies one server's current fault plan; owned by that server, replaced at runtime."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        self.injected = 0

    def set(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def draw_error(self) -> Status | None:
        """The Status to answer with instead of serving, or None."""
        if self.faults.error_rate <= 0 or self._rng.random() >= self.faults.error_rate:
            return None
        code = self._rng.choice(self.faults.error_codes)
        reason, message = _MESSAGES[code]
        self.injected += 1
        details = (
            StatusDetails(retryAfterSeconds=1)
            if code in (429, 503, 504)
            else (StatusDetails(causes=[StatusCause(message="injected fault")]))
        )
        return Status.failure(code, message, reason=reason, details=details)

    def latency(self) -> float:
        return self.faults.latency_ms / 1000.0
