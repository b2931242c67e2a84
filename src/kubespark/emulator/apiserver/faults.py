"""Fault injection: the failures a reliability test asks the emulated server to produce.

Owns the fault plan (a rate of 5xx/429 answers, added latency, watch streams cut after a
while, one chosen write answered with an error) and the per-server injector that decides,
request by request, with its own seeded random source, whether to fail and how. The plan can
be replaced at runtime (admin endpoint, Python API); a "restart" is the server's business
(``server``), not this module's.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from kubespark.errors import InputError
from kubespark.kube.status import Status, StatusCause, StatusDetails

__all__ = ["FaultInjector", "Faults"]

_FAULT_CODES = (429, 500, 502, 503, 504)
# A chosen write may also fail the way a real server refuses one for good (RBAC, admission).
_WRITE_FAULT_CODES = (403, 422, *_FAULT_CODES)
_WRITES = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True, slots=True)
class Faults:
    """What to inject. All zero: a well-behaved server."""

    error_rate: float = 0.0  # fraction of API requests answered with an error instead
    error_codes: tuple[int, ...] = (500, 503, 429)  # drawn uniformly for each injected error
    latency_ms: float = 0.0  # added before every API answer
    watch_drop_after: float | None = None  # real seconds after which each watch is cut off
    seed: int | None = None
    fail_write: int | None = None  # the Nth API write (POST/PUT/PATCH/DELETE) from now fails
    fail_write_code: int = 500  # ... with this code (403 and 422 too: refusals for good)
    fail_write_count: int = 1  # ... and so do the writes right after it, this many in all

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
        if self.fail_write is not None and self.fail_write < 1:
            raise InputError(
                f"write number {self.fail_write} does not exist",
                where="faults.fail_write",
                fix="give 1 for the first write from now, 3 for the third",
            )
        if self.fail_write_count < 1:
            raise InputError(
                f"{self.fail_write_count} writes cannot fail",
                where="faults.fail_write_count",
                fix="give 1 or more",
            )
        if self.fail_write_code not in _WRITE_FAULT_CODES:
            raise InputError(
                f"cannot fail a write with HTTP {self.fail_write_code}",
                where="faults.fail_write_code",
                fix="choose among " + ", ".join(str(c) for c in _WRITE_FAULT_CODES),
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
        try:
            if "error_codes" in clean:
                codes = clean["error_codes"]
                if not isinstance(codes, list) or not all(type(c) is int for c in codes):
                    raise TypeError("error_codes must be a list of HTTP status codes")
                clean["error_codes"] = tuple(codes)
            for name, value in clean.items():
                if name != "error_codes" and (
                    value is not None
                    and (isinstance(value, bool) or not isinstance(value, int | float))
                ):
                    raise TypeError(f"{name} must be a number, not {type(value).__name__}")
            return replace(self, **clean)
        except (TypeError, ValueError) as err:
            raise InputError(str(err), where="faults", fix="send numbers") from None


_MESSAGES = {
    403: ("Forbidden", "forbidden (injected fault)"),
    422: ("Invalid", "the object is invalid (injected fault)"),
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
        self._writes = 0

    def set(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._writes = 0

    def draw_write_error(self, method: str, path: str) -> Status | None:
        """The Status for a chosen write (``fail_write`` and the ``fail_write_count - 1`` after it).

        Writes are counted from when the plan was set.
        """
        if method not in _WRITES or self.faults.fail_write is None:
            return None
        self._writes += 1
        first = self.faults.fail_write
        if not first <= self._writes < first + self.faults.fail_write_count:
            return None
        self.injected += 1
        code = self.faults.fail_write_code
        if code == 403:
            return _forbidden(method, path)
        reason, message = _MESSAGES[code]
        return Status.failure(code, message, reason=reason)

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


def _forbidden(method: str, path: str) -> Status:
    """A 403 worded as the RBAC authorizer words it, for the resource the path names."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    group = "" if parts[:1] == ["api"] else (parts[1] if len(parts) > 1 else "")
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:]
    namespace = ""
    if len(rest) >= 2 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    verb = _WRITES[method]
    subject = f'{resource} "{name}"' if name else resource
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    message = (
        f'{subject} is forbidden: User "kubespark-emulator" cannot {verb} resource "{resource}" '
        f'in API group "{group}"{where} (injected fault)'
    )
    details = StatusDetails(name=name or None, group=group or None, kind=resource or None)
    return Status.failure(403, message, reason="Forbidden", details=details)
