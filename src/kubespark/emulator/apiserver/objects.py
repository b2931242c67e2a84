"""Small shared operations on stored objects (plain dicts as they travel on the wire).

Owns copying (stored objects are immutable, so every change starts from a copy), metadata
access, timestamps in apiserver's RFC 3339 form, and the emulated clock with its speed factor.
Nothing here knows about resources, storage or HTTP.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["Clock", "clone", "meta", "new_uid", "rfc3339"]

Obj = dict[str, Any]


def clone(obj: Any) -> Any:
    """A deep copy of JSON data (orjson round trip: faster than copy.deepcopy)."""
    return orjson.loads(orjson.dumps(obj))


def meta(obj: Obj) -> dict[str, Any]:
    """``metadata`` of an object, created empty when missing or malformed."""
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def peek_meta(obj: Obj) -> dict[str, Any]:
    """``metadata`` for reading only (never creates it)."""
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def new_uid() -> str:
    return str(uuid.uuid4())


def rfc3339(at: float | None = None) -> str:
    """A timestamp as apiserver writes ``metav1.Time``: second precision, UTC, ``Z``."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class Clock:
    """Emulated durations run ``speed`` times faster than real ones; timestamps stay real."""

    speed: float = 1.0

    async def sleep(self, emulated_seconds: float) -> None:
        await asyncio.sleep(max(0.0, emulated_seconds) / self.speed)

    def real(self, emulated_seconds: float) -> float:
        return max(0.0, emulated_seconds) / self.speed
