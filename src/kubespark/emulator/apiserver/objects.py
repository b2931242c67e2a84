"""Small shared operations on stored objects (plain dicts as they travel on the wire).

Owns copying (stored objects are immutable, so every change starts from a copy), metadata
access, timestamps in apiserver's RFC 3339 form, the emulated clock with its speed factor, and
the body of a core/v1 Event (the one form the kubelets and controllers report in). Nothing here
knows about resources, storage or HTTP: callers create what is built here.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["Clock", "clone", "core_event", "meta", "new_uid", "rfc3339"]

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


def core_event(
    subject: Obj,
    reference: dict[str, str],
    reason: str,
    message: str,
    *,
    type_: str,
    source: dict[str, str],
) -> Obj:
    """A core/v1 Event body about ``subject``.

    ``reference`` holds the subject's ``kind`` and ``apiVersion`` and whatever else the reporter
    writes into ``involvedObject`` (a controller adds ``resourceVersion``); namespace, name and
    uid come from the subject. Named as clients' recorders name Events, ``<object>.<digest>``,
    and counted once: the emulator never aggregates repeats into one Event."""
    m = peek_meta(subject)
    now = rfc3339()
    digest = hashlib.sha1(f"{m.get('uid')}{reason}{now}{message}".encode()).hexdigest()[:16]
    involved = {"kind": reference["kind"], "namespace": m.get("namespace"), "name": m.get("name")}
    involved["uid"] = m.get("uid")
    involved.update((k, v) for k, v in reference.items() if k != "kind")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{m.get('name')}.{digest}", "namespace": m.get("namespace")},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": source,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "reportingComponent": "",
        "reportingInstance": "",
    }


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
