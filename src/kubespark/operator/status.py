"""The status of a SparkApplication as kubeflow's v1beta2 API spells it, typed both ways.

Owns reading a stored ``status`` (any shape a user or an older operator left: missing fields,
nulls, unknown states) into a frozen :class:`AppStatus`, writing one back to JSON with kubeflow's
field names, and the JSON merge patch between two statuses. kubespark's additions (the Spark
version submitted, the compat notes, why the driver waits) are extra fields the CRD declares;
on a cluster with kubeflow's CRD they are pruned by the server and everything else still works.

Pure; the clock is the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from kubespark.operator.states import AppState
from kubespark.redaction import redact_text

__all__ = ["AppStatus", "DriverInfo", "format_time", "merge_patch", "omit_empty", "parse_time"]

MAX_NOTES = 20  # compat notes kept in status; the full list goes to events


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time as Kubernetes writes it (``2024-05-01T10:00:00Z``), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime | None) -> str | None:
    """``metav1.Time``'s JSON: seconds, UTC, ``Z``; the zero time is null."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def omit_empty(out: dict[str, Any], optional: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """``out`` with each optional field that has a value, in order: Go's ``json:",omitempty"``,
    as kubeflow's status types declare their optional fields."""
    out.update((key, value) for key, value in optional if value)
    return out


@dataclass(frozen=True, slots=True)
class DriverInfo:
    pod_name: str = ""
    web_ui_service_name: str = ""
    web_ui_address: str = ""
    web_ui_port: int = 0
    web_ui_ingress_name: str = ""
    web_ui_ingress_address: str = ""

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> DriverInfo:
        return cls(
            pod_name=str(raw.get("podName") or ""),
            web_ui_service_name=str(raw.get("webUIServiceName") or ""),
            web_ui_address=str(raw.get("webUIAddress") or ""),
            web_ui_port=_int(raw.get("webUIPort")),
            web_ui_ingress_name=str(raw.get("webUIIngressName") or ""),
            web_ui_ingress_address=str(raw.get("webUIIngressAddress") or ""),
        )

    def to_raw(self) -> dict[str, Any]:
        return omit_empty(
            {},
            [
                ("podName", self.pod_name),
                ("webUIServiceName", self.web_ui_service_name),
                ("webUIAddress", self.web_ui_address),
                ("webUIPort", self.web_ui_port),
                ("webUIIngressName", self.web_ui_ingress_name),
                ("webUIIngressAddress", self.web_ui_ingress_address),
            ],
        )


@dataclass(frozen=True, slots=True)
class AppStatus:
    """``SparkApplicationStatus`` plus kubespark's additions."""

    state: AppState = AppState.NEW
    error_message: str = ""
    spark_application_id: str = ""
    submission_id: str = ""
    last_submission_attempt_time: datetime | None = None
    termination_time: datetime | None = None
    driver_info: DriverInfo = field(default_factory=DriverInfo)
    executor_state: Mapping[str, str] = field(default_factory=dict)
    execution_attempts: int = 0
    submission_attempts: int = 0
    # kubespark's additions
    spark_version: str = ""
    compat_notes: tuple[str, ...] = ()
    waiting_reason: str = ""
    waiting_message: str = ""

    @classmethod
    def from_raw(cls, raw: object) -> AppStatus:
        if not isinstance(raw, Mapping):
            return cls()
        app_state = raw.get("applicationState") or {}
        executors = raw.get("executorState") or {}
        waiting = raw.get("waiting") or {}
        notes = raw.get("compatNotes") or []
        return cls(
            state=AppState.parse(app_state.get("state")),
            error_message=str(app_state.get("errorMessage") or ""),
            spark_application_id=str(raw.get("sparkApplicationId") or ""),
            submission_id=str(raw.get("submissionID") or ""),
            last_submission_attempt_time=parse_time(raw.get("lastSubmissionAttemptTime")),
            termination_time=parse_time(raw.get("terminationTime")),
            driver_info=DriverInfo.from_raw(raw.get("driverInfo") or {}),
            executor_state={str(k): str(v) for k, v in dict(executors).items()},
            execution_attempts=_int(raw.get("executionAttempts")),
            submission_attempts=_int(raw.get("submissionAttempts")),
            spark_version=str(raw.get("sparkVersion") or ""),
            compat_notes=tuple(str(n) for n in notes if isinstance(n, str)),
            waiting_reason=str(waiting.get("reason") or ""),
            waiting_message=str(waiting.get("message") or ""),
        )

    def to_raw(self) -> dict[str, Any]:
        """The JSON kubeflow's controller writes (empty optional fields omitted, times null)."""
        app_state: dict[str, Any] = {"state": self.state.value}
        if self.error_message:
            # The message may quote a driver's log or a server's answer: no credential in status.
            app_state["errorMessage"] = redact_text(self.error_message)
        waiting = {"reason": self.waiting_reason, "message": self.waiting_message}
        return omit_empty(
            {
                "applicationState": app_state,
                "driverInfo": self.driver_info.to_raw(),
                "lastSubmissionAttemptTime": format_time(self.last_submission_attempt_time),
                "terminationTime": format_time(self.termination_time),
            },
            [
                ("sparkApplicationId", self.spark_application_id),
                ("submissionID", self.submission_id),
                ("executorState", dict(self.executor_state)),
                ("executionAttempts", self.execution_attempts),
                ("submissionAttempts", self.submission_attempts),
                ("sparkVersion", self.spark_version),
                ("compatNotes", list(self.compat_notes[:MAX_NOTES])),
                ("waiting", waiting if self.waiting_reason else None),
            ],
        )

    def with_state(self, state: AppState, error: str | None = None) -> AppStatus:
        """A copy in ``state``; the error message is replaced when given, kept otherwise."""
        return replace(
            self, state=state, error_message=self.error_message if error is None else error
        )

    def reset_for(self, leaving: AppState) -> AppStatus:
        """``resetSparkApplicationStatus``: what a rerun, invalidation or suspension clears."""
        run_cleared = replace(
            self,
            spark_application_id="",
            error_message="",
            driver_info=DriverInfo(),
            executor_state={},
            waiting_reason="",
            waiting_message="",
        )
        if leaving in (AppState.SUCCEEDING, AppState.FAILING):
            return replace(run_cleared, termination_time=None)
        if leaving is AppState.INVALIDATING:
            return replace(
                run_cleared,
                submission_attempts=0,
                execution_attempts=0,
                last_submission_attempt_time=None,
                termination_time=None,
            )
        if leaving is AppState.SUSPENDED:
            return run_cleared
        return self


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The RFC 7386 JSON merge patch that turns ``old`` into ``new`` (nulls remove keys)."""
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = merge_patch(before, value)
            if inner:
                patch[key] = inner
        elif key not in old or before != value:
            patch[key] = value
    return patch


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0
