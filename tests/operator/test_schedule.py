"""Cron schedules as kubeflow reads them (robfig/cron ParseStandard), runs and history (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kubespark.operator.schedule import (
    ConcurrencyDecision,
    PastRun,
    ScheduleError,
    concurrency_decision,
    keep_history,
    parse_schedule,
    run_name,
)

T0 = datetime(2025, 3, 8, 12, 0, 30, tzinfo=UTC)


def test_five_field_cron_in_a_zone_across_dst() -> None:
    schedule = parse_schedule("0 9 * * *", "America/New_York")
    first = schedule.next_after(T0)  # 9:00 EST = 14:00 UTC
    second = schedule.next_after(first)  # DST starts on March 9: 9:00 EDT = 13:00 UTC
    assert first == datetime(2025, 3, 8, 14, 0, tzinfo=UTC)
    assert second == datetime(2025, 3, 9, 13, 0, tzinfo=UTC)


def test_descriptors_every_and_prefix() -> None:
    assert parse_schedule("@hourly", "UTC").next_after(T0) == datetime(
        2025, 3, 8, 13, 0, tzinfo=UTC
    )
    every = parse_schedule("@every 1m30s", "UTC")
    assert every.next_after(T0) == T0 + timedelta(seconds=90)
    tokyo = parse_schedule("CRON_TZ=Asia/Tokyo 0 0 * * *", "UTC")
    assert tokyo.zone == ZoneInfo("Asia/Tokyo")
    assert tokyo.next_after(T0) == datetime(2025, 3, 8, 15, 0, tzinfo=UTC)  # midnight JST


@pytest.mark.parametrize(
    ("expression", "zone", "where", "text"),
    [
        ("61 * * * *", "UTC", "spec.schedule", "61"),
        ("* * *", "UTC", "spec.schedule", "expected exactly 5 fields, found 3"),
        ("* * * * * *", "UTC", "spec.schedule", "found 6"),
        ("@fortnightly", "UTC", "spec.schedule", "unrecognized descriptor"),
        ("@every soon", "UTC", "spec.schedule", "duration"),
        ("0 * * * *", "Mars/Olympus_Mons", "spec.timeZone", "unknown time zone Mars/Olympus_Mons"),
    ],
)
def test_bad_schedules_name_the_field(expression: str, zone: str, where: str, text: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(expression, zone)
    assert caught.value.where == where and text in caught.value.message and caught.value.fix


def test_run_name_comes_from_the_scheduled_time() -> None:
    due = datetime(2025, 1, 1, tzinfo=UTC)
    assert run_name("nightly", due) == "nightly-1735689600"
    assert run_name("nightly", due) == run_name("nightly", due.astimezone(ZoneInfo("Asia/Tokyo")))


def _run(name: str, state: str, minute: int) -> PastRun:
    return PastRun(name, state, datetime(2025, 1, 1, 0, minute, tzinfo=UTC))


def test_concurrency_policies() -> None:
    finished = [_run("a", "COMPLETED", 1)]
    going = [*finished, _run("b", "RUNNING", 2)]
    assert concurrency_decision("Allow", going) is ConcurrencyDecision.START
    assert concurrency_decision("Forbid", going) is ConcurrencyDecision.SKIP
    assert concurrency_decision("Forbid", finished) is ConcurrencyDecision.START
    assert concurrency_decision("Replace", going) is ConcurrencyDecision.REPLACE
    assert concurrency_decision("Replace", finished) is ConcurrencyDecision.START
    assert concurrency_decision("Forbid", []) is ConcurrencyDecision.START


def test_history_keeps_the_newest() -> None:
    runs = [_run("a", "COMPLETED", 1), _run("c", "COMPLETED", 3), _run("b", "COMPLETED", 2)]
    keep, drop = keep_history(runs, 2)
    assert [r.name for r in keep] == ["c", "b"] and [r.name for r in drop] == ["a"]
    assert keep_history(runs, 0) == ([], sorted(runs, key=lambda r: r.created, reverse=True))
