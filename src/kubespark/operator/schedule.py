"""ScheduledSparkApplication schedules: cron expressions with a time zone, runs and their history.

Owns what kubeflow's scheduled controller reads from robfig/cron's ``ParseStandard``: five-field
cron expressions, the ``@hourly``-style descriptors and ``@every <Go duration>``, a ``CRON_TZ=`` or
``TZ=`` prefix, and ``spec.timeZone`` (``Local`` by default); the next run time after an instant;
the deterministic name of the run due at a scheduled time (so a restarted operator finds the run
it already created instead of starting a second one); the concurrency policy's decision; and the
run history to keep. Parsing uses croniter (pinned), whose DST handling matches cron's.

Pure; the clock is the caller's. A bad expression or zone is a :class:`ScheduleError` whose
message becomes ``status.reason`` with ``scheduleState: FailedValidation``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from kubespark.errors import InputError

__all__ = [
    "ConcurrencyDecision",
    "PastRun",
    "Schedule",
    "ScheduleError",
    "ScheduleState",
    "concurrency_decision",
    "keep_history",
    "local_zone",
    "parse_schedule",
    "run_name",
]

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


class ScheduleState(StrEnum):
    NEW = ""
    SCHEDULED = "Scheduled"
    FAILED_VALIDATION = "FailedValidation"


class ScheduleError(InputError):
    """A schedule or time zone that cannot be used; the message is the status reason."""


def local_zone() -> tzinfo:
    """The zone ``Local`` means: $TZ, else /etc/localtime, else UTC (as Go's time.Local)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC
    localtime = Path("/etc/localtime")
    if localtime.exists():
        with localtime.open("rb") as f:
            return ZoneInfo.from_file(f, key="Local")
    return UTC


def _zone(name: str) -> tzinfo:
    if name in ("", "Local"):
        return local_zone()
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"Invalid timezone: unknown time zone {name}",
            where="spec.timeZone",
            fix="use an IANA zone name such as Europe/Berlin or America/New_York, or UTC",
        ) from None


def _go_duration(text: str) -> timedelta:
    """Go's ``time.ParseDuration`` for the positive values @every takes."""
    rest, seconds = text, 0.0
    if not text:
        raise ValueError("empty duration")
    while rest:
        match = _GO_DURATION_PART.match(rest)
        if match is None:
            raise ValueError(f"time: invalid duration {text!r}")
        seconds += float(match.group(1)) * _GO_UNITS[match.group(2)]
        rest = rest[match.end() :]
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: a cron expression or a constant delay, in one zone."""

    zone: tzinfo
    cron: str | None = None
    every: timedelta | None = None

    def next_after(self, instant: datetime) -> datetime:
        """The first activation strictly after ``instant`` (an aware datetime), in UTC."""
        if self.every is not None:
            # robfig's ConstantDelaySchedule: whole seconds, at least one.
            delay = max(self.every, timedelta(seconds=1))
            delay = timedelta(seconds=int(delay.total_seconds()))
            return (instant + delay - timedelta(microseconds=instant.microsecond)).astimezone(UTC)
        assert self.cron is not None
        start = instant.astimezone(self.zone)
        found: datetime = croniter(self.cron, start).get_next(datetime)
        return found.astimezone(UTC)


def parse_schedule(expression: str, time_zone: str = "Local") -> Schedule:
    """``spec.schedule`` and ``spec.timeZone`` as kubeflow reads them; ScheduleError if bad."""
    zone_name, text = time_zone, expression.strip()
    for prefix in ("CRON_TZ=", "TZ="):
        if text.startswith(prefix):
            zone_name, _, text = text[len(prefix) :].partition(" ")
            text = text.strip()
    zone = _zone(zone_name)
    if text.startswith("@every "):
        try:
            return Schedule(zone, every=_go_duration(text[len("@every ") :].strip()))
        except ValueError as err:
            raise _bad(expression, f"failed to parse duration {text}: {err}") from None
    cron = _DESCRIPTORS.get(text, text)
    if cron.startswith("@"):
        raise _bad(expression, f"unrecognized descriptor: {text}")
    fields = cron.split()
    if len(fields) != 5:
        raise _bad(
            expression, f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
        )
    try:
        croniter(cron, datetime(2000, 1, 1, tzinfo=UTC))
    except (CroniterError, ValueError, KeyError) as err:
        raise _bad(expression, str(err)) from None
    return Schedule(zone, cron=cron)


def _bad(expression: str, why: str) -> ScheduleError:
    return ScheduleError(
        f"invalid schedule {expression!r}: {why}",
        where="spec.schedule",
        fix="write five cron fields (minute hour day-of-month month day-of-week, e.g. "
        '"*/10 * * * *"), a descriptor such as @hourly, or @every 5m',
    )


def run_name(scheduled: str, at: datetime) -> str:
    """The SparkApplication name of the run due at ``at``: ``<name>-<unix seconds>``.

    Derived from the scheduled time, not the wall clock, so the run of one activation has one
    name however often the operator restarts while creating it.
    """
    return f"{scheduled}-{int(at.timestamp())}"


@dataclass(frozen=True, slots=True)
class PastRun:
    """A run the scheduled application owns: its name, state and creation time."""

    name: str
    state: str
    created: datetime

    @property
    def finished(self) -> bool:
        return self.state in ("COMPLETED", "FAILED")


class ConcurrencyDecision(StrEnum):
    START = "start"
    SKIP = "skip"  # Forbid while the last run is still going
    REPLACE = "replace"  # delete the unfinished last run, then start


def concurrency_decision(policy: str, runs: Sequence[PastRun]) -> ConcurrencyDecision:
    """``shouldStartNextRun``: what the policy says given the runs that exist."""
    if not runs:
        return ConcurrencyDecision.START
    last = max(runs, key=lambda r: (r.created, r.name))
    if policy == "Forbid" and not last.finished:
        return ConcurrencyDecision.SKIP
    if policy == "Replace" and not last.finished:
        return ConcurrencyDecision.REPLACE
    return ConcurrencyDecision.START


def keep_history(runs: Sequence[PastRun], limit: int) -> tuple[list[PastRun], list[PastRun]]:
    """``bookkeepPastRuns``: the newest ``limit`` runs kept, the rest to delete."""
    newest_first = sorted(runs, key=lambda r: (r.created, r.name), reverse=True)
    return newest_first[:limit], newest_first[limit:]
