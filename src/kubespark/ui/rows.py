"""The dashboard's rows: one flat, typed line per application, and the list page over them.

Owns :class:`AppRow` (kind, namespace, name, state, why it waits or failed, attempts, age, duration,
Spark version, executors), built from a SparkApplication, a ScheduledSparkApplication, a
SparkConnect (a long-running Spark Connect server: Ready, NotReady or Failed, its executors counted
by the operator) or a ``kubespark submit`` driver pod with its executors, and :func:`page_of`
(filter by state, kind and namespace, search, newest first, pagination). The meanings of the objects
come from ``kubespark.submit`` (which reads states the same way for ``kubespark list``); nothing
here fetches or writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter
from typing import Any

from kubespark.driver.kubeflow import LABEL_APP_NAME
from kubespark.redaction import redact_text
from kubespark.submit import DriverState, status_of_pod
from kubespark.submit.operator_apps import OperatorApp, ResourceKind

__all__ = [
    "FAILED",
    "SUBMISSION",
    "AppRow",
    "Filters",
    "Page",
    "duration_seconds",
    "operator_row",
    "page_of",
    "parse_time",
    "submission_row",
]

SUBMISSION = "Submission"  # a driver pod `kubespark submit` wrote, as `kubespark list` names it
# "Failed", "Ready" and "NotReady" are a SparkConnect's states (v1alpha1 spells them so).
FAILED = frozenset({"FAILED", "SUBMISSION_FAILED", "FailedValidation", "Failed"})
RUNNING = frozenset({"RUNNING", "SUBMITTED", "PENDING_RERUN", "Scheduled", "Ready"})
NOT_READY = "NotReady"
PAGE_SIZES = (25, 50, 100, 200)
ENDED = (DriverState.COMPLETED, DriverState.FAILED)


@dataclass(frozen=True)
class AppRow:
    """One application as the list shows it."""

    kind: str  # SparkApplication, ScheduledSparkApplication, SparkConnect or Submission
    namespace: str
    name: str
    state: str
    reason: str  # why it waits (ImagePullBackOff: ...) or why it failed, one line
    attempts: str
    created: str  # RFC 3339, as the server wrote it
    started: str
    finished: str
    spark_version: str
    executors: str
    suspended: bool = False
    driver_pod: str = ""
    schedule: str = ""

    @cached_property
    def group(self) -> str:
        """``failed``, ``waiting``, ``running``, ``completed`` or ``other``: the filter's word."""
        if self.state in FAILED:
            return "failed"
        if self.reason and self.state not in ("COMPLETED",) and not self.finished:
            return "waiting"
        if self.state == NOT_READY:  # a Connect server not ready is waiting, said why or not
            return "waiting"
        if self.state == "COMPLETED":
            return "completed"
        if self.state in RUNNING or self.state == "PENDING":
            return "running"
        return "other"

    def view(self, now: datetime) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k not in ("group", "haystack")},
            "group": self.group,
            "ageSeconds": _seconds_since(self.created, now),
            "durationSeconds": duration_seconds(self.started, self.finished, now),
        }

    @cached_property
    def haystack(self) -> str:
        """What a search looks in (worked out once per row: a search reads every row)."""
        return " ".join(
            (self.kind, self.namespace, self.name, self.state, self.reason, self.spark_version)
        ).lower()


def parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _seconds_since(text: str, now: datetime) -> int | None:
    then = parse_time(text)
    return None if then is None else max(0, int((now - then).total_seconds()))


def duration_seconds(started: str, finished: str, now: datetime) -> int | None:
    """How long it ran (until now while it runs); None before it started."""
    begin = parse_time(started)
    if begin is None:
        return None
    end = parse_time(finished) or now
    return max(0, int((end - begin).total_seconds()))


def _oneline(text: str, limit: int = 240) -> str:
    """One line of at most ``limit`` characters, credentials redacted: a row is redacted once,
    when built, so a page of rows is served as it is."""
    line = " ".join(redact_text(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def operator_row(app: OperatorApp) -> AppRow:
    """A SparkApplication, ScheduledSparkApplication or SparkConnect's row."""
    status = app.status
    if app.kind is ResourceKind.CONNECT:
        return _connect_row(app)
    if app.kind is ResourceKind.SCHEDULED:
        return AppRow(
            kind=app.kind.value,
            namespace=app.namespace,
            name=app.name,
            state=app.state,
            reason=_oneline(str(status.get("reason") or "")),
            attempts="",
            created=app.created,
            started=str(status.get("lastRun") or ""),
            finished="",
            spark_version=app.spark_version,
            executors="",
            suspended=app.suspended,
            schedule=str(app.spec.get("schedule") or ""),
        )
    executors = app.executors
    running = sum(1 for s in executors.values() if s == "RUNNING")
    return AppRow(
        kind=app.kind.value,
        namespace=app.namespace,
        name=app.name,
        state=app.state,
        reason=_oneline(app.waiting or app.error),
        attempts=app.attempts,
        created=app.created,
        started=str(status.get("lastSubmissionAttemptTime") or ""),
        finished=str(status.get("terminationTime") or ""),
        spark_version=app.spark_version,
        executors=f"{running}/{len(executors)}" if executors else "",
        suspended=app.suspended,
        driver_pod=app.driver_pod,
    )


def _connect_row(app: OperatorApp) -> AppRow:
    """A SparkConnect's row: it runs until deleted (no end, no attempts); its executors are the
    operator's counts by phase (``status.executors``: running/total)."""
    counts = {phase: int(n) for phase, n in app.executors.items() if n.isdigit()}
    total = sum(counts.values())
    return AppRow(
        kind=app.kind.value,
        namespace=app.namespace,
        name=app.name,
        state=app.state,
        # Failed: the operator's refusal; otherwise why the server is not ready (its condition).
        reason=_oneline(app.error or app.waiting),
        attempts="",
        created=app.created,
        started=str(app.status.get("startTime") or ""),
        finished="",
        spark_version=app.spark_version,
        executors=f"{counts.get('running', 0)}/{total}" if total else "",
        driver_pod=app.driver_pod,
    )


def submission_row(pod: Mapping[str, Any], executors: Iterable[Mapping[str, Any]]) -> AppRow:
    """A ``kubespark submit`` application's row, from its driver pod and executor pods."""
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    driver = status_of_pod(dict(pod))
    status = pod.get("status") or {}
    phases = [str((e.get("status") or {}).get("phase") or "") for e in executors]
    reason = driver.waiting.render() if driver.waiting else driver.failure
    state = driver.state.value
    return AppRow(
        kind=SUBMISSION,
        namespace=str(meta.get("namespace") or ""),
        name=str(labels.get(LABEL_APP_NAME) or meta.get("name") or ""),
        state=state,
        reason=_oneline(reason),
        attempts="1/1",
        created=str(meta.get("creationTimestamp") or ""),
        started=str(status.get("startTime") or ""),
        finished=_finished(pod)
        if driver.state in (DriverState.COMPLETED, DriverState.FAILED)
        else "",
        spark_version=str(labels.get("spark-version") or ""),
        executors=f"{phases.count('Running')}/{len(phases)}" if phases else "",
        driver_pod=driver.pod_name,
    )


def _finished(pod: Mapping[str, Any]) -> str:
    ends = [
        str(((c.get("state") or {}).get("terminated") or {}).get("finishedAt") or "")
        for c in (pod.get("status") or {}).get("containerStatuses") or []
    ]
    return max((e for e in ends if e), default="")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list page asks for (query parameters of ``/api/apps``)."""

    search: str = ""
    group: str = ""  # failed, waiting, running, completed, other; "" any
    kind: str = ""
    namespace: str = ""
    page: int = 1
    size: int = 50

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        def number(name: str, default: int) -> int:
            text = query.get(name, "")
            return int(text) if text.isdigit() else default

        size = number("size", 50)
        return cls(
            search=query.get("q", "").strip().lower()[:200],
            group=query.get("group", ""),
            kind=query.get("kind", ""),
            namespace=query.get("namespace", ""),
            page=max(1, number("page", 1)),
            size=size if size in PAGE_SIZES else 50,
        )

    @property
    def active(self) -> bool:
        return bool(self.search or self.group or self.kind or self.namespace)

    def keeps(self, row: AppRow) -> bool:
        if self.kind and row.kind != self.kind:
            return False
        if self.namespace and row.namespace != self.namespace:
            return False
        if self.group and row.group != self.group:
            return False
        return not self.search or all(w in row.haystack for w in self.search.split())


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[AppRow, ...]
    total: int  # rows matching the filters
    page: int
    pages: int
    counts: Mapping[str, int]  # per group, over every row (the filter buttons' numbers)


_GROUP = attrgetter("group")
_NEWEST = attrgetter("created", "namespace", "name")


def page_of(rows: Iterable[AppRow], filters: Filters) -> Page:
    """The rows matching ``filters``, newest first, cut to one page."""
    everything = list(rows)
    counts = Counter(map(_GROUP, everything))
    kept = [r for r in everything if filters.keeps(r)] if filters.active else everything
    kept.sort(key=_NEWEST, reverse=True)
    pages = max(1, -(-len(kept) // filters.size))
    page = min(filters.page, pages)
    start = (page - 1) * filters.size
    return Page(tuple(kept[start : start + filters.size]), len(kept), page, pages, counts)
